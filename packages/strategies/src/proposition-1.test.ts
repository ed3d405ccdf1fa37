// The uncapped form of Proposition 1 (paper Sec. 3): the temperature-softmax weights maximise
//   F(w) = sum_i w_i s_i - r KL(w || uniform)  over the probability simplex. The paper's
// statement also keeps the cap w_i <= 2/n; that capped optimum is tested in @lrw/theory.
// Checked against a generic optimiser that knows nothing about softmax: projected gradient
// ascent with Euclidean projection onto the simplex and Armijo backtracking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeWeights } from './compute-weights.js';
import { normalizeLosses } from './normalize.js';
import { type StrategyName, strategyScores } from './strategies.js';
import { temperatureSoftmax } from './temperature-softmax.js';

/** Euclidean projection onto {w : w_i >= floor, sum w = 1} (sort-based, Duchi et al. 2008). */
function projectOntoSimplex(v: number[], floor: number): number[] {
  const n = v.length;
  const mass = 1 - n * floor;
  const u = v.map((x) => x - floor).sort((a, b) => b - a);
  let cumulative = 0;
  let theta = 0;
  for (let k = 0; k < n; k++) {
    cumulative += u[k];
    const t = (cumulative - mass) / (k + 1);
    if (u[k] - t > 0) theta = t;
  }
  return v.map((x) => Math.max(x - floor - theta, 0) + floor);
}

/** Maximises a concave function over the simplex by projected gradient ascent. */
function projectedGradientAscent(
  f: (w: number[]) => number,
  grad: (w: number[]) => number[],
  n: number,
  iterations: number,
): number[] {
  // The floor keeps log(w) finite; it is far below any softmax weight in these instances.
  const floor = 1e-12;
  let w = new Array(n).fill(1 / n);
  let fw = f(w);
  let step = 1;
  for (let it = 0; it < iterations; it++) {
    const g = grad(w);
    let next: number[];
    let fNext: number;
    // Armijo backtracking on the projected step.
    for (;;) {
      next = projectOntoSimplex(
        w.map((x, i) => x + step * g[i]),
        floor,
      );
      fNext = f(next);
      const moved = next.reduce((acc, x, i) => acc + g[i] * (x - w[i]), 0);
      if (fNext >= fw + 0.5 * moved || step < 1e-14) break;
      step /= 2;
    }
    const change = next.reduce((acc, x, i) => Math.max(acc, Math.abs(x - w[i])), 0);
    w = next;
    fw = fNext;
    step *= 2;
    if (change < 1e-15) break;
  }
  return w;
}

function objective(s: ArrayLike<number>, r: number) {
  const n = s.length;
  const f = (w: number[]) => {
    let value = 0;
    for (let i = 0; i < n; i++) value += w[i] * s[i] - r * w[i] * Math.log(n * w[i]);
    return value;
  };
  const grad = (w: number[]) => w.map((x, i) => s[i] - r * (Math.log(n * x) + 1));
  return { f, grad };
}

describe('Proposition 1: softmax(s / r) maximises sum w s - r KL(w || u)', () => {
  it('agrees with projected gradient ascent on random instances', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 8 }),
        fc.double({ min: 0.3, max: 3, noNaN: true }),
        (s, r) => {
          const { f, grad } = objective(s, r);
          const closedForm = Array.from(temperatureSoftmax(s, r));
          const numeric = projectedGradientAscent(f, grad, s.length, 20_000);
          for (let i = 0; i < s.length; i++) {
            expect(Math.abs(numeric[i] - closedForm[i])).toBeLessThanOrEqual(1e-6);
          }
          // The closed form is at least as good as anything the optimiser found.
          expect(f(closedForm)).toBeGreaterThanOrEqual(f(numeric) - 1e-12);
        },
      ),
      { seed: 1, numRuns: 40 },
    );
  });

  it('holds for the weights of each strategy on random losses, and beats random simplex points', () => {
    const strategies: StrategyName[] = ['linupper', 'quadratic', 'extremes', 'linear'];
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 8, noNaN: true }), { minLength: 2, maxLength: 8 }),
        fc.constantFrom(...strategies),
        fc.constantFrom(0.4, 0.5, 1, 2),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
        (losses, strategy, r, other) => {
          const s = strategyScores(normalizeLosses(losses), strategy);
          const w = Array.from(computeWeights(losses, { strategy, r }));
          const { f, grad } = objective(s, r);
          const numeric = projectedGradientAscent(f, grad, s.length, 20_000);
          for (let i = 0; i < s.length; i++) {
            expect(Math.abs(numeric[i] - w[i])).toBeLessThanOrEqual(1e-6);
          }
          // A random point of the simplex never does better.
          const raw = other.slice(0, s.length).map((x) => x + 1e-9);
          const total = raw.reduce((a, b) => a + b, 0);
          expect(f(w)).toBeGreaterThanOrEqual(f(raw.map((x) => x / total)) - 1e-12);
        },
      ),
      { seed: 2, numRuns: 40 },
    );
  });
});

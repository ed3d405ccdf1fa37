import { computeWeights } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { klRegularizedObjective, optimalKlWeights } from './proposition1.js';
import { SeededRandom } from './random.js';

/** Euclidean projection onto the simplex (Duchi et al. 2008, sort-based). */
function projectOntoSimplex(v: Float64Array): Float64Array {
  const u = Float64Array.from(v).sort().reverse();
  let css = 0;
  let theta = 0;
  for (let j = 0; j < u.length; j++) {
    css += u[j];
    const t = (css - 1) / (j + 1);
    if (u[j] - t > 0) theta = t;
  }
  return v.map((x) => Math.max(x - theta, 0));
}

/**
 * A generic constrained optimiser that knows nothing of the closed form: projected gradient
 * ascent on the simplex, started at the uniform point, with backtracking on the step; a
 * candidate that touches the boundary is rejected (the KL gradient is infinite there).
 */
function projectedGradientAscent(s: Float64Array, r: number, iters = 20000): Float64Array {
  const m = s.length;
  let w: Float64Array = new Float64Array(m).fill(1 / m);
  let f = klRegularizedObjective(w, s, r);
  let step = 1;
  for (let it = 0; it < iters; it++) {
    const g = w.map((wi, i) => s[i] - r * (Math.log(m * wi) + 1));
    for (;;) {
      const cand = projectOntoSimplex(w.map((wi, i) => wi + step * g[i]));
      const interior = cand.every((c) => c > 0);
      const fc = interior ? klRegularizedObjective(cand, s, r) : Number.NEGATIVE_INFINITY;
      if (fc >= f) {
        w = cand;
        f = fc;
        step *= 1.5;
        break;
      }
      step *= 0.5;
      if (step < 1e-18) return w;
    }
  }
  return w;
}

describe('Proposition 1', () => {
  it('the closed form agrees with a generic optimiser (weights and optimal value)', () => {
    const rng = new SeededRandom(11);
    for (let k = 0; k < 25; k++) {
      const m = 2 + rng.int(7);
      const s = Float64Array.from({ length: m }, () => rng.between(-2, 2));
      const r = rng.between(0.5, 3);
      const { weights, value } = optimalKlWeights(s, r);
      const generic = projectedGradientAscent(s, r, 3000);
      const genericValue = klRegularizedObjective(generic, s, r);
      expect(value).toBeGreaterThanOrEqual(genericValue - 1e-12);
      expect(value - genericValue).toBeLessThan(1e-8);
      for (let i = 0; i < m; i++) expect(generic[i]).toBeCloseTo(weights[i], 4);
      expect(klRegularizedObjective(weights, s, r)).toBeCloseTo(value, 12);
      // No other simplex point does better (random points).
      for (let j = 0; j < 20; j++) {
        const p = projectOntoSimplex(Float64Array.from({ length: m }, () => rng.uniform()));
        expect(klRegularizedObjective(p, s, r)).toBeLessThanOrEqual(value + 1e-12);
      }
    }
  });

  it('matches @lrw/strategies weights for dro-kl (softmax of raw scores / r)', () => {
    const s = [0.3, 2.5, 1.1, -0.4];
    const w = computeWeights(s, { strategy: 'dro-kl', r: 0.7 });
    const p = optimalKlWeights(s, 0.7).weights;
    for (let i = 0; i < s.length; i++) expect(p[i]).toBeCloseTo(w[i], 14);
  });

  it('without the KL term the optimum puts all mass on the largest scores; large r is uniform', () => {
    const s = [1, 3, 3, 2];
    const small = optimalKlWeights(s, 1e-3).weights;
    expect(small[1]).toBeCloseTo(0.5, 12);
    expect(small[2]).toBeCloseTo(0.5, 12);
    expect(optimalKlWeights(s, 1e-3).value).toBeCloseTo(3 + 1e-3 * Math.log(0.5), 12);
    const big = optimalKlWeights(s, 1e9).weights;
    for (const w of big) expect(w).toBeCloseTo(0.25, 8);
    // Large scores do not overflow.
    expect(optimalKlWeights([1000, 0], 0.01).value).toBeCloseTo(1000 + 0.01 * Math.log(0.5), 9);
  });

  it('rejects bad input', () => {
    expect(() => optimalKlWeights([], 1)).toThrow(/scores: must be a non-empty array/);
    expect(() => optimalKlWeights([1], 0)).toThrow(/r: must be a finite number > 0, got 0/);
    expect(() => klRegularizedObjective([-0.5, 1.5], [1, 2], 1)).toThrow(
      /weights\[0\]: must be >= 0/,
    );
  });
});

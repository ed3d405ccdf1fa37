import { computeWeights } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { klRegularizedObjective, optimalKlWeights } from './proposition1.js';
import { SeededRandom } from './random.js';

/**
 * Euclidean projection onto { 0 <= w_i <= hi, sum w = 1 } (hi = Infinity: the simplex), by
 * bisection on the shift theta of w_i = clip(v_i - theta, 0, hi). Generic: knows nothing of
 * the KL objective.
 */
function projectOntoCappedSimplex(v: Float64Array, hi: number): Float64Array {
  const clip = (theta: number) => v.map((x) => Math.min(hi, Math.max(0, x - theta)));
  const total = (theta: number) => clip(theta).reduce((a, x) => a + x, 0);
  let lo = Math.min(...v) - 1;
  let up = Math.max(...v);
  for (let it = 0; it < 64; it++) {
    const mid = 0.5 * (lo + up);
    if (total(mid) > 1) lo = mid;
    else up = mid;
  }
  return clip(0.5 * (lo + up));
}

/**
 * A generic constrained optimiser: projected gradient ascent on the capped simplex, started
 * at the uniform point (feasible for any cap >= 1), with backtracking on the step. A candidate
 * with a zero weight is rejected (the KL gradient is infinite there).
 */
function projectedGradientAscent(
  s: Float64Array,
  r: number,
  cap: number,
  iters: number,
): Float64Array {
  const m = s.length;
  const hi = cap / m;
  let w: Float64Array = new Float64Array(m).fill(1 / m);
  let f = klRegularizedObjective(w, s, r);
  let step = 1;
  for (let it = 0; it < iters; it++) {
    const g = w.map((wi, i) => s[i] - r * (Math.log(m * wi) + 1));
    for (;;) {
      const cand = projectOntoCappedSimplex(
        w.map((wi, i) => wi + step * g[i]),
        hi,
      );
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

/**
 * Exhaustive active sets: for every subset C of samples held at the cap, the rest maximise the
 * objective over { sum = 1 - |C| c/M } without the cap, which Gibbs' inequality solves (the
 * mass spread as exp(s/r)); keep the best feasible candidate. Exponential in M: small M only.
 */
function exhaustiveActiveSet(s: Float64Array, r: number, cap: number) {
  const m = s.length;
  const hi = cap / m;
  let best: { w: Float64Array; value: number } | null = null;
  for (let mask = 0; mask < 1 << m; mask++) {
    let k = 0;
    for (let i = 0; i < m; i++) if (mask & (1 << i)) k++;
    const mass = 1 - k * hi;
    if (mass < -1e-12 || (k < m && mass <= 0)) continue;
    const w = new Float64Array(m);
    let z = 0;
    for (let i = 0; i < m; i++) if (!(mask & (1 << i))) z += Math.exp(s[i] / r);
    for (let i = 0; i < m; i++) w[i] = mask & (1 << i) ? hi : (mass * Math.exp(s[i] / r)) / z;
    if (w.some((x) => x > hi * (1 + 1e-12))) continue;
    const value = klRegularizedObjective(w, s, r);
    if (best === null || value > best.value) best = { w, value };
  }
  if (best === null) throw new Error('no feasible active set');
  return best;
}

/** The r -> 0 limit (a linear program): fill c/M greedily from the largest score. */
function greedyLinearProgram(s: Float64Array, cap: number): Float64Array {
  const m = s.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => s[b] - s[a]);
  const w = new Float64Array(m);
  let left = 1;
  for (const i of order) {
    w[i] = Math.min(cap / m, left);
    left -= w[i];
  }
  return w;
}

describe('Proposition 1 (with the cap)', () => {
  it('agrees with projected gradient ascent on the capped simplex (c = 2, 1.5, 3, Infinity)', () => {
    const rng = new SeededRandom(11);
    let cappedCases = 0;
    for (let k = 0; k < 24; k++) {
      const m = 2 + rng.int(9);
      const s = Float64Array.from({ length: m }, () => rng.between(-2, 2));
      const r = rng.between(0.3, 3);
      const cap = [2, 1.5, 3, Number.POSITIVE_INFINITY][k % 4];
      const { weights, value, atCap } = optimalKlWeights(s, r, { cap });
      if (atCap > 0) cappedCases++;
      const generic = projectedGradientAscent(s, r, cap, 3000);
      const genericValue = klRegularizedObjective(generic, s, r);
      expect(value).toBeGreaterThanOrEqual(genericValue - 1e-12);
      // The generic optimiser converges slowly where small weights make the problem
      // ill-conditioned; the exhaustive search below checks to 1e-10.
      expect(value - genericValue).toBeLessThan(1e-6);
      for (let i = 0; i < m; i++) expect(Math.abs(generic[i] - weights[i])).toBeLessThan(2e-3);
      expect(klRegularizedObjective(weights, s, r)).toBeCloseTo(value, 12);
      for (const w of weights) expect(w).toBeLessThanOrEqual((cap / m) * (1 + 1e-12));
      // No other feasible point does better (random points of the capped simplex).
      for (let j = 0; j < 20; j++) {
        const p = projectOntoCappedSimplex(
          Float64Array.from({ length: m }, () => rng.uniform()),
          cap / m,
        );
        if (p.some((x) => x <= 0)) continue;
        expect(klRegularizedObjective(p, s, r)).toBeLessThanOrEqual(value + 1e-12);
      }
    }
    // Not vacuous: the cap binds on a good share of these instances.
    expect(cappedCases).toBeGreaterThan(6);
  });

  it('agrees with an exhaustive search over active sets, also at small r', () => {
    const rng = new SeededRandom(12);
    for (let k = 0; k < 60; k++) {
      const m = 2 + rng.int(7);
      const s = Float64Array.from({ length: m }, () => rng.between(0, 1));
      const r = [0.05, 0.2, 0.4, 1, 3][k % 5];
      const cap = k % 3 === 0 ? 1.5 : 2;
      const mine = optimalKlWeights(s, r, { cap });
      const best = exhaustiveActiveSet(s, r, cap);
      expect(mine.value).toBeCloseTo(best.value, 10);
      for (let i = 0; i < m; i++) expect(mine.weights[i]).toBeCloseTo(best.w[i], 10);
    }
  });

  it('the plain softmax is the optimum exactly when it respects the cap', () => {
    const rng = new SeededRandom(13);
    let respects = 0;
    for (let k = 0; k < 200; k++) {
      const m = 4 + rng.int(29);
      const losses = Float64Array.from({ length: m }, () => rng.between(2, 6));
      const r = rng.between(0.2, 2);
      const strategy = (['linupper', 'quadratic', 'extremes'] as const)[k % 3];
      const softmax = computeWeights(losses, { strategy, r });
      // The strategy's scores, recovered from the softmax: s_i = r log w_i + const.
      const scores = Float64Array.from(softmax, (w) => r * Math.log(w));
      const capped = optimalKlWeights(scores, r);
      const maxTimesN = m * Math.max(...softmax);
      if (maxTimesN <= 2) {
        respects++;
        expect(capped.atCap).toBe(0);
        for (let i = 0; i < m; i++) expect(capped.weights[i]).toBeCloseTo(softmax[i], 12);
      } else {
        expect(capped.atCap).toBeGreaterThan(0);
        expect(m * Math.max(...capped.weights)).toBeCloseTo(2, 12);
        expect(capped.value).toBeLessThan(optimalKlWeights(scores, r, { cap: Infinity }).value);
      }
    }
    expect(respects).toBeGreaterThan(20);
    expect(respects).toBeLessThan(180);
  });

  it('r -> 0: the cap-2 optimum gives 2/M to the top half of the scores and 0 to the rest', () => {
    const s = Float64Array.from([0.9, 0.1, 0.5, 0.7, 0.3, 0.2]);
    const w = optimalKlWeights(s, 1e-3).weights;
    const lp = greedyLinearProgram(s, 2);
    for (let i = 0; i < s.length; i++) expect(w[i]).toBeCloseTo(lp[i], 12);
    expect(Array.from(lp, (x) => Math.round(x * 6 * 1e12) / 1e12)).toEqual([2, 0, 2, 2, 0, 0]);
    // Odd M: the middle score gets the remainder 1/M. Cap 3: the top third.
    expect(Array.from(optimalKlWeights([3, 1, 2], 1e-4).weights, (x) => x * 3)).toEqual([
      2,
      expect.closeTo(0, 12),
      expect.closeTo(1, 12),
    ]);
    const third = optimalKlWeights(s, 1e-3, { cap: 3 }).weights;
    expect(third[0] * 6).toBeCloseTo(3, 12);
    expect(third[3] * 6).toBeCloseTo(3, 12);
    // Without the cap the limit is all mass on the maximum, which the paper's problem excludes.
    expect(optimalKlWeights(s, 1e-3, { cap: Number.POSITIVE_INFINITY }).weights[0]).toBeCloseTo(
      1,
      12,
    );
  });

  it('the uncapped value is r log mean exp(s/r); large r is uniform; c = 1 is uniform; no overflow', () => {
    const s = [1, 3, 3, 2];
    const free = optimalKlWeights(s, 0.7, { cap: Number.POSITIVE_INFINITY });
    const direct = 0.7 * Math.log(s.reduce((a, x) => a + Math.exp(x / 0.7), 0) / 4);
    expect(free.value).toBeCloseTo(direct, 13);
    expect(free.atCap).toBe(0);
    const dro = computeWeights(s, { strategy: 'dro-kl', r: 0.7 });
    for (let i = 0; i < 4; i++) expect(free.weights[i]).toBeCloseTo(dro[i], 14);
    for (const w of optimalKlWeights(s, 1e9).weights) expect(w).toBeCloseTo(0.25, 8);
    const one = optimalKlWeights(s, 0.5, { cap: 1 });
    expect(Array.from(one.weights)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(one.value).toBeCloseTo(2.25, 14);
    const big = optimalKlWeights([1000, 0, 0, 0], 0.01);
    expect(Array.from(big.weights)).toEqual([
      0.5,
      expect.closeTo(1 / 6, 14),
      expect.closeTo(1 / 6, 14),
      expect.closeTo(1 / 6, 14),
    ]);
    expect(big.value).toBeCloseTo(klRegularizedObjective(big.weights, [1000, 0, 0, 0], 0.01), 9);
  });

  it('rejects bad input, and klRegularizedObjective names the sum of off-simplex weights', () => {
    expect(() => optimalKlWeights([], 1)).toThrow(/scores: must be a non-empty array/);
    expect(() => optimalKlWeights([1], 0)).toThrow(/r: must be a finite number > 0, got 0/);
    expect(() => optimalKlWeights([1, 2], 1, { cap: 0.5 })).toThrow(
      /cap: must be a number >= 1 \(or Infinity\), got 0\.5/,
    );
    expect(() => klRegularizedObjective([-0.5, 1.5], [1, 2], 1)).toThrow(
      /weights\[0\]: is -0\.5 < 0/,
    );
    expect(() => klRegularizedObjective([0.5, 0.7], [1, 2], 1)).toThrow(
      /weights: sum to 1\.2, not 1 \(within 1e-9\).*divide them by their sum/,
    );
  });
});

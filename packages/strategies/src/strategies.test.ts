import { describe, expect, it } from 'vitest';
import { computeWeights } from './compute-weights.js';
import { STRATEGIES, STRATEGY_NAMES, strategyScores } from './strategies.js';

/** Grid of x in [-delta, delta], ends and 0 included. */
function grid(delta: number): number[] {
  return Array.from({ length: 401 }, (_, i) => delta * (i / 200 - 1));
}

describe('STRATEGIES: one descriptor per named strategy', () => {
  it('lists every name once, in the order of STRATEGY_NAMES', () => {
    expect(Object.keys(STRATEGIES)).toEqual([...STRATEGY_NAMES]);
    expect(STRATEGY_NAMES).toEqual([
      'uniform',
      'linupper',
      'quadratic',
      'extremes',
      'linear',
      'dro-kl',
    ]);
  });

  it("carries the paper's default r (spec section 7), Infinity for uniform, 1 where none is published", () => {
    expect(Object.fromEntries(STRATEGY_NAMES.map((n) => [n, STRATEGIES[n].defaultR]))).toEqual({
      uniform: Infinity,
      linupper: 0.4,
      quadratic: 1,
      extremes: 0.4,
      linear: 1,
      'dro-kl': 1,
    });
  });

  it('scores as spec section 3 says', () => {
    for (const x of [-1, -0.25, 0, 0.5, 1]) {
      expect(STRATEGIES.uniform.score(x)).toBe(0);
      expect(STRATEGIES.linupper.score(x)).toBe(Math.min(x + 1, 1));
      expect(STRATEGIES.quadratic.score(x)).toBe(1 - x * x);
      expect(STRATEGIES.extremes.score(x)).toBe(Math.abs(x));
      expect(STRATEGIES.linear.score(x)).toBe((x + 1) / 2);
      expect(STRATEGIES['dro-kl'].score(x)).toBe(x);
    }
    expect(STRATEGY_NAMES.filter((n) => STRATEGIES[n].raw)).toEqual(['dro-kl']);
    expect(Array.from(strategyScores([3.5, 2], 'dro-kl'))).toEqual([3.5, 2]);
  });

  // The contract computeWeights' fused path relies on (see StrategyDescriptor): for every x of
  // the batch, u d + v |d| + w d^2 = s(x) - s(x_c) + constant, with the constant the same for
  // all samples, and the exponent within max(delta, delta^2) of 0. Checked on normalized batches
  // whose x cover [-delta, delta], for several delta, and on raw losses for raw strategies.
  for (const name of STRATEGY_NAMES) {
    it(`${name}: the fast coefficients reproduce s - max s up to one constant, within the bound`, () => {
      const d = STRATEGIES[name];
      const fast = d.fast;
      if (!fast) return; // the general path only: nothing to check
      const [u, v, w, at] = fast;
      for (const delta of [0.5, 1, 3]) {
        const xs = d.raw ? grid(1).map((x) => 4 + 2 * x) : grid(delta);
        const top = d.raw ? 6 : delta;
        const xc = at === 'max' ? top : d.raw ? 4 : 0;
        const bound = d.raw ? 4 : Math.max(delta, delta * delta);
        const diffs = xs.map((x) => {
          const dx = x - xc;
          const exponent = u * dx + v * Math.abs(dx) + w * dx * dx;
          expect(Math.abs(exponent)).toBeLessThanOrEqual(bound * (1 + 1e-15));
          return exponent - d.score(x);
        });
        // One constant for all samples.
        for (const diff of diffs) expect(diff).toBeCloseTo(diffs[0], 14);
      }
    });
  }

  it('the fused path equals the general path for every named strategy', () => {
    const losses = Float64Array.from({ length: 33 }, (_, i) => 2 + ((i * 13) % 17) / 7);
    for (const strategy of STRATEGY_NAMES) {
      for (const r of [0.05, 0.4, 1, 7]) {
        const fused = computeWeights(losses, { strategy, r });
        // An all-true `active` takes the general path with the same inclusion.
        const general = computeWeights(losses, { strategy, r, active: losses.map(() => 1) });
        for (let i = 0; i < losses.length; i++) {
          expect(Math.abs(fused[i] - general[i])).toBeLessThanOrEqual(1e-14);
        }
      }
    }
  });
});

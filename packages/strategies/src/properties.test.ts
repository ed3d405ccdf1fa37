// Property tests (fast-check, fixed seeds so every run checks the same instances).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceWeights } from '../test/reference.js';
import { computeWeights } from './compute-weights.js';
import { normalizeLosses } from './normalize.js';
import { STRATEGY_NAMES, type StrategyName, strategyScores } from './strategies.js';
import { temperatureSoftmax } from './temperature-softmax.js';

const SEED = 20250206;
const RUNS = 200;

const lossValue = fc.double({ min: 0, max: 20, noNaN: true, noDefaultInfinity: true });
const losses = fc.array(lossValue, { minLength: 1, maxLength: 64 });
/** Loss vectors whose range stays well above the 1e-6 floor, so scaling keeps x unchanged. */
const spreadLosses = fc
  .array(lossValue, { minLength: 2, maxLength: 64 })
  .filter((l) => Math.max(...l) - Math.min(...l) > 1e-2);
const temperature = fc.double({ min: 0.05, max: 100, noNaN: true });
const strategy = fc.constantFrom<StrategyName>(...STRATEGY_NAMES);
const normalizedStrategy = fc.constantFrom<StrategyName>(
  'uniform',
  'linupper',
  'quadratic',
  'extremes',
  'linear',
);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('properties of the weights', () => {
  it('are >= 0 and sum to 1, for every strategy, in float64 and float32', () => {
    fc.assert(
      fc.property(losses, strategy, temperature, (l, s, r) => {
        for (const input of [Float64Array.from(l), Float32Array.from(l)]) {
          const w = computeWeights(input, { strategy: s, r });
          let sum = 0;
          for (const v of w) {
            expect(v).toBeGreaterThanOrEqual(0);
            sum += v;
          }
          expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-12);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('equal a plain transcription of the spec (test/reference.ts)', () => {
    fc.assert(
      fc.property(losses, strategy, temperature, (l, s, r) => {
        const w = computeWeights(Float64Array.from(l), { strategy: s, r });
        expect(maxAbsDiff(w, referenceWeights(l, s, r))).toBeLessThanOrEqual(1e-13);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('equal the three stages composed', () => {
    fc.assert(
      fc.property(losses, normalizedStrategy, temperature, (l, s, r) => {
        const staged = temperatureSoftmax(strategyScores(normalizeLosses(l), s), r);
        // Equal up to rounding: the fused path orders the operations differently.
        expect(maxAbsDiff(computeWeights(l, { strategy: s, r }), staged)).toBeLessThanOrEqual(
          1e-14,
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('are invariant to adding a constant to all losses and to scaling them by a > 0', () => {
    const shift = fc.double({ min: -100, max: 100, noNaN: true });
    const scale = fc.double({ min: 0.01, max: 100, noNaN: true });
    fc.assert(
      fc.property(spreadLosses, normalizedStrategy, temperature, shift, scale, (l, s, r, c, a) => {
        const w = computeWeights(l, { strategy: s, r });
        const shifted = computeWeights(
          l.map((v) => v + c),
          { strategy: s, r },
        );
        const scaled = computeWeights(
          l.map((v) => v * a),
          { strategy: s, r },
        );
        // Rounding of l + c and l * a moves x by ~1e-14 relative to the range.
        expect(maxAbsDiff(w, shifted)).toBeLessThanOrEqual(1e-9);
        expect(maxAbsDiff(w, scaled)).toBeLessThanOrEqual(1e-9);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('dro-kl (no normalization) is shift-invariant but not scale-invariant', () => {
    const l = [1, 2, 4];
    const w = computeWeights(l, { strategy: 'dro-kl', r: 1 });
    const shifted = computeWeights(
      l.map((v) => v + 7),
      { strategy: 'dro-kl', r: 1 },
    );
    expect(maxAbsDiff(w, shifted)).toBeLessThanOrEqual(1e-12);
    const scaled = computeWeights(
      l.map((v) => v * 2),
      { strategy: 'dro-kl', r: 1 },
    );
    expect(maxAbsDiff(w, scaled)).toBeGreaterThan(0.1);
  });

  it('r -> infinity gives uniform weights (exactly 1/n at r = Infinity)', () => {
    fc.assert(
      fc.property(losses, strategy, (l, s) => {
        const n = l.length;
        const exact = computeWeights(l, { strategy: s, r: Infinity });
        for (const v of exact) expect(v).toBe(1 / n);
        // Scores are bounded (|s| <= 20 here), so at r = 1e9 each weight is within ~4e-8 * n of
        // 1/n relative.
        const large = computeWeights(l, { strategy: s, r: 1e9 });
        for (const v of large) expect(Math.abs(v * n - 1)).toBeLessThanOrEqual(1e-7);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('LinUpper (and Linear) weights are non-decreasing in the loss', () => {
    fc.assert(
      fc.property(
        losses,
        temperature,
        fc.constantFrom('linupper', 'linear') as fc.Arbitrary<StrategyName>,
        (l, r, s) => {
          const w = computeWeights(l, { strategy: s, r });
          const order = l.map((_, i) => i).sort((i, j) => l[i] - l[j]);
          for (let k = 1; k < order.length; k++) {
            expect(w[order[k]]).toBeGreaterThanOrEqual(w[order[k - 1]] * (1 - 1e-12));
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('n * max weight <= exp((max s - min s) / r)', () => {
    fc.assert(
      fc.property(losses, strategy, temperature, (l, s, r) => {
        const scores = s === 'dro-kl' ? l : strategyScores(normalizeLosses(l), s);
        const w = computeWeights(l, { strategy: s, r });
        const bound = Math.exp((Math.max(...scores) - Math.min(...scores)) / r);
        expect(l.length * Math.max(...w)).toBeLessThanOrEqual(bound * (1 + 1e-12));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('r >= 1 / ln 2 keeps every named strategy (scores in [0, 1]) under the 2/n cap', () => {
    const r = 1 / Math.LN2;
    fc.assert(
      fc.property(losses, normalizedStrategy, (l, s) => {
        const w = computeWeights(l, { strategy: s, r });
        expect(l.length * Math.max(...w)).toBeLessThanOrEqual(2 * (1 + 1e-12));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('inactive samples: weight 0, the rest as without them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(lossValue, fc.boolean()), { minLength: 1, maxLength: 40 }),
        strategy,
        temperature,
        (pairs, s, r) => {
          const l = pairs.map((p) => p[0]);
          const active = pairs.map((p) => p[1]);
          const w = computeWeights(l, { strategy: s, r, active });
          const kept = l.filter((_, i) => active[i]);
          if (kept.length === 0) {
            expect(w.every((v) => v === 0)).toBe(true);
            return;
          }
          const ref = computeWeights(kept, { strategy: s, r });
          const mine = Array.from(w).filter((_, i) => active[i]);
          // Equal up to rounding: the masked path takes the exact max score as exponent offset.
          expect(maxAbsDiff(mine, ref)).toBeLessThanOrEqual(1e-14);
          expect(Array.from(w).filter((_, i) => !active[i])).toEqual(
            new Array(l.length - kept.length).fill(0),
          );
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

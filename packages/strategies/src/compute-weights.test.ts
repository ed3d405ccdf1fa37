import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type GoldenCase, golden } from '../test/golden.js';
import { referenceWeights } from '../test/reference.js';
import { computeWeights, type WeightOptions } from './compute-weights.js';
import { normalizeLosses } from './normalize.js';
import { STRATEGY_NAMES, type Strategy, strategyScores } from './strategies.js';
import { temperatureSoftmax } from './temperature-softmax.js';
import { weightStats } from './weight-stats.js';

/** Golden strategy names (reference code) to ours; see test/fixtures/README.md. */
function strategyOf(name: string): Strategy {
  if (name === 'upper_linear') return 'linear';
  if (name === 'dro_kl') return 'dro-kl';
  if (name === 'readme_uniform') return (x: number) => x;
  return name as Strategy;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

const TOL = 1e-6;

describe('golden cases (shared/golden/strategies.json)', () => {
  it('holds all 315 cases over 7 strategies and 5 temperatures', () => {
    expect(golden.cases).toHaveLength(315);
    expect(new Set(golden.cases.map((c) => c.strategy)).size).toBe(7);
    expect(new Set(golden.cases.map((c) => c.r))).toEqual(new Set([0.4, 0.5, 1, 2, 100]));
  });

  const shared = new URL('../../../../shared/golden/strategies.json', import.meta.url);
  if (!existsSync(shared)) {
    console.warn(
      `skipping the fixture-freshness check: ${shared.pathname} is absent (a clone without the ` +
        'shared/ folder); the committed fixture in test/fixtures is still tested in full.',
    );
  }
  it.skipIf(!existsSync(shared))('fixture is a trim of the current shared golden file', () => {
    const text = readFileSync(shared, 'utf8');
    expect(createHash('sha256').update(text).digest('hex')).toBe(golden.source_sha256);
  });

  const label = (c: GoldenCase) => `${c.name} ${c.strategy} r=${c.r}`;

  it.each(golden.cases.map((c) => [label(c), c] as const))('float64: %s', (_, c) => {
    const losses = Float64Array.from(golden.loss_vectors[c.name]);
    const strategy = strategyOf(c.strategy);
    const w = computeWeights(losses, { strategy, r: c.r });
    expectClose(w, c.weights, TOL);
    // The three stages, composed, agree with the fused path and with the golden stages.
    if (strategy !== 'dro-kl') {
      const x = normalizeLosses(losses);
      expectClose(x, c.normalized, TOL);
      const s = strategyScores(x, strategy);
      // 'uniform' has no scores in the reference (it bypasses weighting): ours are all 0.
      if (strategy !== 'uniform') expectClose(s, c.scores, TOL);
      expectClose(temperatureSoftmax(s, c.r), c.weights, TOL);
    } else {
      expectClose(temperatureSoftmax(strategyScores(losses, 'dro-kl'), c.r), c.weights, TOL);
    }
    const stats = weightStats(w, losses);
    expect(Math.abs(stats.weightedLoss - c.weighted_loss_sum_w_l)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(stats.maxWeightTimesN - c.max_weight_times_n)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(w.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
  });

  // float64_only cases have losses 2.5e-7 apart around 3.0, below float32 resolution (2.4e-7),
  // so their float32 inputs describe a different batch: checked below against the plain spec
  // transcription in test/reference.ts instead of the golden weights.
  const f32Cases = golden.cases.filter((c) => !c.float64_only);
  it('covers float32 against the golden weights for the 280 cases float32 can represent', () => {
    expect(f32Cases).toHaveLength(280);
  });
  const f64Only = golden.cases.filter((c) => c.float64_only);
  it.each(f64Only.map((c) => [label(c), c] as const))('float32, float64_only: %s', (_, c) => {
    const losses = Float32Array.from(golden.loss_vectors[c.name]);
    const w = computeWeights(losses, { strategy: strategyOf(c.strategy), r: c.r });
    expectClose(w, referenceWeights(losses, strategyOf(c.strategy), c.r), 1e-12);
  });
  it.each(f32Cases.map((c) => [label(c), c] as const))('float32: %s', (_, c) => {
    const losses = Float32Array.from(golden.loss_vectors[c.name]);
    const w = computeWeights(losses, { strategy: strategyOf(c.strategy), r: c.r });
    expect(w).toBeInstanceOf(Float64Array);
    expectClose(w, c.weights, TOL);
    const stats = weightStats(w, losses);
    // Relative: the float32 rounding of a loss of 50 is already 2e-6 in absolute terms.
    expect(Math.abs(stats.weightedLoss - c.weighted_loss_sum_w_l)).toBeLessThanOrEqual(
      TOL * Math.max(1, Math.abs(c.weighted_loss_sum_w_l)),
    );
    expect(Math.abs(stats.maxWeightTimesN - c.max_weight_times_n)).toBeLessThanOrEqual(TOL * 64);
  });
});

describe("the 'out' option and the two paths", () => {
  // Deterministic losses with a spread and ties.
  const losses = Float64Array.from({ length: 257 }, (_, i) => 2 + ((i * 37) % 101) / 25);
  const strategies: Strategy[] = [...STRATEGY_NAMES, (x: number) => x * x];

  it('writes into out, returns it, and equals a fresh call whatever out held', () => {
    for (const strategy of strategies) {
      for (const r of [0.4, 1, 1e-3, Infinity]) {
        const extras: Partial<WeightOptions>[] = [
          {},
          { active: losses.map((_, i) => i % 5) },
          { nonFinite: 'zero' },
        ];
        for (const extra of extras) {
          const options: WeightOptions = { strategy, r, ...extra };
          const fresh = computeWeights(losses, options);
          const out = new Float64Array(losses.length).fill(Number.NaN);
          expect(computeWeights(losses, { ...options, out })).toBe(out);
          expect(Array.from(out)).toEqual(Array.from(fresh));
        }
      }
    }
  });

  it('out may be the losses array itself, on the fused and the general path', () => {
    // r = 1e-3: past the fused path's exponent span, the general path.
    for (const strategy of strategies) {
      for (const r of [0.4, 1e-3]) {
        const want = computeWeights(losses, { strategy, r });
        const inPlace = losses.slice();
        expect(computeWeights(inPlace, { strategy, r, out: inPlace })).toBe(inPlace);
        expectClose(inPlace, want, 0);
      }
    }
  });

  it('a NaN loss is still named with out = losses', () => {
    const inPlace = Float64Array.of(1, 2, Number.NaN, 4);
    expect(() => computeWeights(inPlace, { strategy: 'linupper', r: 0.4, out: inPlace })).toThrow(
      /losses\[2\] = NaN is not a finite loss/,
    );
  });

  it('refuses an out of the wrong length', () => {
    expect(() =>
      computeWeights([1, 2, 3], { strategy: 'linupper', r: 1, out: new Float64Array(2) }),
    ).toThrow(/out has 2 entries but losses has 3: pass one entry per loss, or omit out/);
  });

  it('fused loops (two samples per iteration, four in the scaling): every n from 1 to 11', () => {
    for (let n = 1; n <= 11; n++) {
      const losses = Float32Array.from({ length: n }, (_, i) => 2 + ((i * 7) % 5) / 3 + i / 17);
      for (const strategy of STRATEGY_NAMES) {
        for (const r of [0.4, 1, 2.5e-3]) {
          const w = computeWeights(losses, { strategy, r });
          expectClose(w, referenceWeights(losses, strategy, r), 1e-12);
          // The last sample is written by the loop's second lane (even n) or its first (odd n).
          expect(w[n - 1]).toBeGreaterThan(0);
        }
      }
    }
  });

  it('extremes near the fused span limit: exponents up to 459 do not overflow', () => {
    const losses = [1, 1.5, 2, 2.5, 3, 3.5, 4];
    for (const r of [1 / 459, 1 / 400, 0.01]) {
      const w = computeWeights(losses, { strategy: 'extremes', r });
      expectClose(w, referenceWeights(losses, 'extremes', r), 1e-12);
      expect(Math.abs(w.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('a bad loss in the last slot of an even or odd batch is named', () => {
    for (const n of [6, 7]) {
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        const losses = Array.from({ length: n }, (_, i) => 1 + i / 3);
        losses[n - 1] = bad;
        for (const strategy of STRATEGY_NAMES) {
          expect(() => computeWeights(losses, { strategy, r: 0.4 })).toThrow(
            `losses[${n - 1}] = ${bad} is not a finite loss`,
          );
        }
      }
    }
  });

  it('small r: the general path matches the spec transcription', () => {
    const few = [2.1, 2.5, 3.0, 3.3, 4.8, 2.9];
    for (const strategy of STRATEGY_NAMES) {
      for (const r of [3e-3, 2e-3, 1e-3, 1e-4]) {
        expectClose(
          computeWeights(few, { strategy, r }),
          referenceWeights(few, strategy, r),
          1e-12,
        );
      }
    }
  });
});

describe('a Float32Array out (for tensor libraries without float64, such as TF.js)', () => {
  const losses = Float32Array.from({ length: 65 }, (_, i) => 2 + ((i * 29) % 23) / 9);
  const strategies: Strategy[] = [...STRATEGY_NAMES, (x: number) => Math.sqrt(1 - x * x)];

  it('is typed and returned as a Float32Array, and holds the float64 weights rounded', () => {
    for (const strategy of strategies) {
      // r = 1e-3: the general path for the named strategies too.
      for (const r of [0.4, 1, 1e-3]) {
        for (const extra of [{}, { active: losses.map((_, i) => i % 4) }] as const) {
          const want = computeWeights(losses, { strategy, r, ...extra });
          const out = new Float32Array(losses.length).fill(Number.NaN);
          const got: Float32Array = computeWeights(losses, { strategy, r, ...extra, out });
          expect(got).toBe(out);
          for (let i = 0; i < want.length; i++) {
            // float32 rounding of the exp, then of the scaled weight: 2^-23 relative at most.
            expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(want[i] * 2 ** -23 + 1e-45);
          }
        }
      }
    }
  });

  it('may be the losses array itself', () => {
    for (const strategy of strategies) {
      for (const r of [0.4, 1e-3]) {
        const want = Float32Array.from(computeWeights(losses, { strategy, r }));
        const inPlace = losses.slice();
        computeWeights(inPlace, { strategy, r, out: inPlace });
        for (let i = 0; i < want.length; i++) {
          expect(Math.abs(inPlace[i] - want[i])).toBeLessThanOrEqual(want[i] * 2 ** -23 + 1e-45);
        }
      }
    }
  });
});

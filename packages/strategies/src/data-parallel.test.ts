import { describe, expect, it } from 'vitest';
import { golden } from '../test/golden.js';
import { computeWeights } from './compute-weights.js';
import { rankLossCoefficients, rankWeightSlice } from './data-parallel.js';
import type { StrategyName } from './strategies.js';

const TOL = 1e-6;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('data parallelism: golden distributed_cases (W = 2, B = 4, unequal token counts)', () => {
  it('has the 6 cases', () => expect(golden.distributed_cases).toHaveLength(6));

  it.each(golden.distributed_cases.map((c) => [`${c.strategy} r=${c.r}`, c] as const))(
    '%s',
    (_, c) => {
      const W = c.world_size;
      // The all-gather concatenates the ranks' losses in rank order.
      for (const Typed of [Float64Array, Float32Array]) {
        const gathered = Typed.from(c.device_losses.flat());
        const global = computeWeights(gathered, { strategy: c.strategy as StrategyName, r: c.r });
        for (let i = 0; i < global.length; i++) {
          expect(Math.abs(global[i] - c.global_weights[i])).toBeLessThanOrEqual(TOL);
        }
        const rankLosses: number[] = [];
        const tokenMeanLosses: number[] = [];
        for (let rank = 0; rank < W; rank++) {
          const local = c.device_losses[rank];
          const slice = rankWeightSlice(global, { worldSize: W, rank });
          expect(slice.scale).toBe(W);
          expect(slice.end - slice.start).toBe(c.per_device_batch);
          for (let i = 0; i < local.length; i++) {
            expect(Math.abs(slice.weights[i] - c.device_weights[rank][i])).toBeLessThanOrEqual(TOL);
          }
          // README / fms-fsdp form: W * sum_local w_i l_i.
          const readme = slice.scale * dot(slice.weights, local);
          expect(Math.abs(readme - c.readme_fms_per_rank_loss[rank])).toBeLessThanOrEqual(TOL);
          const coeffs = rankLossCoefficients(global, { worldSize: W, rank });
          expect(Math.abs(dot(coeffs, local) - readme)).toBeLessThanOrEqual(1e-12);
          rankLosses.push(readme);
          // trainer.py form: token-weighted mean over the rank's active tokens.
          const tokenMean = dot(
            rankLossCoefficients(global, {
              worldSize: W,
              rank,
              form: 'token-mean',
              numActive: c.device_num_active[rank],
            }),
            local,
          );
          expect(Math.abs(tokenMean - c.trainer_py_per_rank_loss[rank])).toBeLessThanOrEqual(TOL);
          tokenMeanLosses.push(tokenMean);
        }
        // Gradient averaging over ranks (DDP mean) of the per-rank losses.
        const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
        expect(Math.abs(mean(rankLosses) - c.global_sum_w_l)).toBeLessThanOrEqual(TOL);
        expect(
          Math.abs(mean(rankLosses) - c.readme_fms_effective_objective_after_ddp_mean),
        ).toBeLessThanOrEqual(TOL);
        expect(
          Math.abs(mean(tokenMeanLosses) - c.trainer_py_effective_objective_after_ddp_mean),
        ).toBeLessThanOrEqual(TOL);
        // The trainer.py form is not the weighted objective when token counts differ.
        expect(Math.abs(mean(tokenMeanLosses) - c.global_sum_w_l)).toBeGreaterThan(1e-3);
      }
    },
  );
});

describe('rankWeightSlice', () => {
  const w = Float64Array.from([0.1, 0.2, 0.3, 0.15, 0.25]);

  it('slices unequal rank sizes in rank order; scale 1 under sum reduction', () => {
    const s = rankWeightSlice(w, { worldSize: 2, rank: 1, rankSizes: [2, 3] });
    expect(Array.from(s.weights)).toEqual([0.3, 0.15, 0.25]);
    expect([s.start, s.end, s.scale]).toEqual([2, 5, 2]);
    expect(
      rankWeightSlice(w, { worldSize: 2, rank: 0, rankSizes: [2, 3], gradientReduction: 'sum' })
        .scale,
    ).toBe(1);
  });

  it('takes any array of numbers: typed arrays give a view, others a Float64Array copy', () => {
    const plain = [0.1, 0.2, 0.3, 0.15, 0.25];
    const options = { worldSize: 2, rank: 1, rankSizes: [2, 3] };
    const fromPlain = rankWeightSlice(plain, options);
    expect(fromPlain.weights).toBeInstanceOf(Float64Array);
    expect(Array.from(fromPlain.weights)).toEqual([0.3, 0.15, 0.25]);
    const f32 = Float32Array.from(plain);
    const fromF32: Float32Array = rankWeightSlice(f32, options).weights;
    expect(fromF32.buffer).toBe(f32.buffer);
    expect(Array.from(fromF32)).toEqual(Array.from(f32.subarray(2)));
    expect(rankWeightSlice(w, options).weights.buffer).toBe(w.buffer);
    const coefficients = rankLossCoefficients(plain, {
      ...options,
      form: 'token-mean',
      numActive: [1, 2, 1],
    });
    expect(Array.from(coefficients)).toEqual(
      Array.from(rankLossCoefficients(w, { ...options, form: 'token-mean', numActive: [1, 2, 1] })),
    );
    expect(() => rankWeightSlice(5 as never, { worldSize: 1, rank: 0 })).toThrow(
      /globalWeights is not an array/,
    );
  });

  it('rejects a bad rank, world size or split', () => {
    expect(() => rankWeightSlice(w, { worldSize: 2, rank: 2, rankSizes: [2, 3] })).toThrow(
      /rank = 2 must be an integer in \[0, 1\]; the GLOBAL rank/,
    );
    expect(() => rankWeightSlice(w, { worldSize: 2, rank: 0 })).toThrow(
      /5 global weights do not split evenly over worldSize 2/,
    );
    expect(() => rankWeightSlice(w, { worldSize: 2, rank: 0, rankSizes: [2, 2] })).toThrow(
      /rankSizes sum to 4/,
    );
    expect(() => rankWeightSlice(w, { worldSize: 0, rank: 0 })).toThrow(/worldSize = 0/);
    expect(() => rankLossCoefficients(w, { worldSize: 1, rank: 0, form: 'token-mean' })).toThrow(
      /needs numActive/,
    );
  });

  it('a rank whose samples have no active tokens gets zero coefficients in token-mean form', () => {
    const c = rankLossCoefficients(Float64Array.from([0.5, 0.5]), {
      worldSize: 1,
      rank: 0,
      form: 'token-mean',
      numActive: [0, 0],
    });
    expect(Array.from(c)).toEqual([0, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { accumulationCoefficients } from './accumulation.js';
import { computeWeights } from './compute-weights.js';

const micro = [
  [2.0, 3.0, 2.5, 4.0],
  [1.5, 6.0, 3.5, 2.2],
];
const sum = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

describe('gradient accumulation', () => {
  it('per-micro-batch (reference): each micro-batch weighted on its own, divided by A', () => {
    const c = accumulationCoefficients(micro, {
      strategy: 'linupper',
      r: 1,
      normalization: 'per-micro-batch',
    });
    micro.forEach((losses, m) => {
      const w = computeWeights(losses, { strategy: 'linupper', r: 1 });
      for (let i = 0; i < w.length; i++) expect(c[m][i]).toBeCloseTo(w[i] / 2, 15);
      expect(sum(c[m])).toBeCloseTo(0.5, 14);
    });
  });

  it('across-accumulation: the weights of one batch of A * B samples', () => {
    const c = accumulationCoefficients(micro, {
      strategy: 'linupper',
      r: 1,
      normalization: 'across-accumulation',
    });
    const global = computeWeights(micro.flat(), { strategy: 'linupper', r: 1 });
    expect([...c[0], ...c[1]]).toEqual(Array.from(global));
    expect(sum(c[0]) + sum(c[1])).toBeCloseTo(1, 14);
  });

  it('the two differ when micro-batches have different loss ranges, agree when A = 1', () => {
    const opts = { strategy: 'quadratic' as const, r: 0.5 };
    const per = accumulationCoefficients(micro, { ...opts, normalization: 'per-micro-batch' });
    const across = accumulationCoefficients(micro, {
      ...opts,
      normalization: 'across-accumulation',
    });
    expect(Math.abs(per[1][1] - across[1][1])).toBeGreaterThan(0.005);
    const one = [micro[0]];
    expect(accumulationCoefficients(one, { ...opts, normalization: 'per-micro-batch' })).toEqual(
      accumulationCoefficients(one, { ...opts, normalization: 'across-accumulation' }),
    );
  });

  it('passes per-micro-batch active masks through', () => {
    const active = [
      [1, 1, 0, 1],
      [1, 1, 1, 1],
    ];
    for (const normalization of ['per-micro-batch', 'across-accumulation'] as const) {
      const c = accumulationCoefficients(micro, {
        strategy: 'extremes',
        r: 1,
        normalization,
        active,
      });
      expect(c[0][2]).toBe(0);
      expect(sum(c[0]) + sum(c[1])).toBeCloseTo(1, 14);
    }
  });

  it('rejects empty input, bad normalization and mismatched masks', () => {
    expect(() =>
      accumulationCoefficients([], {
        strategy: 'linupper',
        r: 1,
        normalization: 'per-micro-batch',
      }),
    ).toThrow(/microBatchLosses is empty/);
    expect(() =>
      accumulationCoefficients(micro, {
        strategy: 'linupper',
        r: 1,
        normalization: 'global' as 'per-micro-batch',
      }),
    ).toThrow(/normalization = "global"/);
    expect(() =>
      accumulationCoefficients(micro, {
        strategy: 'linupper',
        r: 1,
        normalization: 'across-accumulation',
        active: [[1], [1, 1, 1, 1]],
      }),
    ).toThrow(/active\[0\] has 1 entries/);
  });
});

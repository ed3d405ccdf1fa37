import { computeWeights, constantTemperature, plainMeanWarmup, Reweighter } from '@lrw/strategies';
import { accumulationCoefficients } from '@lrw/strategies/distributed';
import { describe, expect, it } from 'vitest';
import { stepWeights } from './step-weights.js';

const micro = [
  { losses: Float32Array.of(2.1, 2.5, 3.0, 3.3), active: Uint8Array.of(1, 1, 1, 1) },
  { losses: Float32Array.of(4.8, 2.9, 3.1, 2.2), active: Uint8Array.of(1, 1, 1, 1) },
];
const all = [...micro[0]!.losses, ...micro[1]!.losses];
const sum = (c: Float64Array[]) => c.reduce((s, x) => s + x.reduce((a, b) => a + b, 0), 0);

describe('stepWeights', () => {
  it('global normalization: one softmax over all micro-batches', () => {
    const rw = new Reweighter({ strategy: 'linupper', schedule: constantTemperature(0.4) });
    const w = stepWeights(rw, 'linupper', micro, 7, 'global');
    const want = computeWeights(all, { strategy: 'linupper', r: 0.4 });
    expect([...w.coefficients[0]!, ...w.coefficients[1]!]).toEqual(Array.from(want));
    expect(w.uniform).toBe(false);
    expect(w.r).toBe(0.4);
    expect(sum(w.coefficients)).toBeCloseTo(1, 12);
  });

  it('per-micro-batch normalization: the reference code (each micro-batch on its own, / A)', () => {
    const rw = new Reweighter({ strategy: 'extremes', schedule: constantTemperature(0.4) });
    const w = stepWeights(rw, 'extremes', micro, 7, 'per-micro-batch');
    const want = accumulationCoefficients(
      micro.map((m) => m.losses),
      { normalization: 'per-micro-batch', strategy: 'extremes', r: 0.4 },
    );
    expect(w.coefficients.map((c) => Array.from(c))).toEqual(want.map((c) => Array.from(c)));
    expect(sum(w.coefficients)).toBeCloseTo(1, 12);
    expect(w.stats.n).toBe(8);
  });

  it('per-micro-batch normalization updates the running totals once per micro-batch', () => {
    // quadratic at r = 0.1 makes the top sample dominate: every micro-batch breaks the 2/n cap.
    const rw = new Reweighter({ strategy: 'quadratic', schedule: constantTemperature(0.1) });
    const w = stepWeights(rw, 'quadratic', micro, 3, 'per-micro-batch');
    const perMicro = micro.map((m) => computeWeights(m.losses, { strategy: 'quadratic', r: 0.1 }));
    const breaks = perMicro.filter((p) => p.some((x) => x > 2 / p.length)).length;
    expect(breaks).toBe(2);
    expect(rw.totals()).toMatchObject({ steps: 2, capBreaks: breaks, lastStep: 3 });
    expect(w.coefficients[1]![0]).toBeCloseTo(perMicro[1]![0]! / 2, 15);
    stepWeights(rw, 'quadratic', micro, 4, 'per-micro-batch');
    expect(rw.totals()).toMatchObject({ steps: 4, capBreaks: 4, lastStep: 4 });
  });

  it('uniform and the plain-mean warm-up take the mean-loss path', () => {
    const rw = new Reweighter({
      strategy: 'quadratic',
      schedule: plainMeanWarmup(10, constantTemperature(1)),
    });
    const early = stepWeights(rw, 'quadratic', micro, 9, 'per-micro-batch');
    expect(early.uniform).toBe(true);
    expect(early.r).toBe(Infinity);
    expect(early.coefficients[0]![0]).toBe(1 / 8);
    expect(stepWeights(rw, 'quadratic', micro, 10, 'global').uniform).toBe(false);
    const u = new Reweighter({ strategy: 'uniform', schedule: constantTemperature(1) });
    expect(stepWeights(u, 'uniform', micro.slice(0, 1), 0, 'global').uniform).toBe(true);
  });

  it('gives samples without active targets weight 0 and leaves the mean path', () => {
    const rw = new Reweighter({ strategy: 'uniform', schedule: constantTemperature(1) });
    const withEmpty = [{ losses: Float32Array.of(1, 0, 2), active: Uint8Array.of(1, 0, 1) }];
    const w = stepWeights(rw, 'uniform', withEmpty, 0, 'global');
    expect(w.uniform).toBe(false);
    expect(Array.from(w.coefficients[0]!)).toEqual([0.5, 0, 0.5]);
  });
});

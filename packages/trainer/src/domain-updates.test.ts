import { describe, expect, it } from 'vitest';
import {
  alignmentScores,
  averageWeights,
  DOREMI_DEFAULTS,
  dogeUpdate,
  doremiUpdate,
  excessLosses,
  exponentiatedGradientStep,
} from './domain-updates.js';

describe('DoReMi update (hand computations)', () => {
  it('uses the published defaults: step size 1, smoothing 1e-3', () => {
    expect(DOREMI_DEFAULTS).toEqual({ stepSize: 1, smoothing: 1e-3 });
  });

  it('uniform weights and excess losses 0, ln 2, ln 3 give 1/6, 2/6, 3/6, then smoothing', () => {
    // exp(eta * lambda) = 1, 2, 3 with eta = 1: alpha' proportional to 1:2:3
    const a = doremiUpdate([1 / 3, 1 / 3, 1 / 3], [0, Math.log(2), Math.log(3)]);
    const c = 1e-3;
    const expected = [1 / 6, 2 / 6, 3 / 6].map((x) => (1 - c) * x + c / 3);
    expect(expected[0]).toBeCloseTo(0.166833333, 9);
    for (const [i, x] of a.entries()) expect(x).toBeCloseTo(expected[i]!, 12);
    expect(a.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });

  it('follows the step size and smoothing given', () => {
    // 0.2 * e^(0.5 * 1) : 0.8 * e^0 = 0.32974 : 0.8 -> 0.29187, 0.70813; no smoothing
    const a = doremiUpdate([0.2, 0.8], [1, 0], { stepSize: 0.5, smoothing: 0 });
    expect(a[0]).toBeCloseTo(0.291875, 5);
    expect(a[1]).toBeCloseTo(0.708125, 5);
    // full smoothing: uniform whatever the losses
    expect(doremiUpdate([0.2, 0.8], [5, 0], { smoothing: 1 })).toEqual([0.5, 0.5]);
  });

  it('does not overflow on large scores and keeps a zero weight at zero', () => {
    const a = exponentiatedGradientStep([0.5, 0.5, 0], [2000, 1000, 3000], 1);
    expect(a).toEqual([1, 0, 0]);
  });

  it("clips the per-token excess at 0 and averages it over each domain's tokens", () => {
    // rows: domain 0 (tokens 2 - 1 = 1, 1 - 2 < 0 -> 0), domain 1 (3 - 1 = 2, 3 - 5 -> 0;
    // the third token is inactive), a padding row (-1)
    const proxy = [2, 1, 0, 3, 3, 9, 7, 7, 7];
    const ref = [1, 2, 0, 1, 5, 0, 0, 0, 0];
    const active = [1, 1, 0, 1, 1, 0, 1, 1, 1];
    expect(excessLosses(proxy, ref, active, [0, 1, -1], 3)).toEqual([0.5, 1, 0]);
  });

  it('rejects mismatched or non-finite inputs', () => {
    expect(() => doremiUpdate([0.5, 0.5], [1])).toThrow(/2 domain weights and 1 scores/);
    expect(() => doremiUpdate([0.5, 0.5], [Number.NaN, 1])).toThrow(/score of domain 0 is NaN/);
    expect(() => doremiUpdate([-0.5, 1.5], [0, 1])).toThrow(/weights must be >= 0/);
  });
});

describe('DoGE update (hand computations)', () => {
  it("scores each domain by its gradient's inner product with the sum of all", () => {
    // g0 = (1, 0), g1 = (0, 2): sum (1, 2); <g0, sum> = 1, <g1, sum> = 4
    expect(alignmentScores([Float32Array.of(1, 0), Float32Array.of(0, 2)])).toEqual([1, 4]);
    // conflicting gradients score negative
    expect(
      alignmentScores([
        [1, 0],
        [-3, 0],
      ]),
    ).toEqual([-2, 6]);
  });

  it('takes the mirror step with step size lr / mu', () => {
    const a = dogeUpdate([0.5, 0.5], [1, 4], { lr: 0.1, mu: 1 });
    const z = Math.exp(0.1) + Math.exp(0.4);
    expect(a[0]).toBeCloseTo(Math.exp(0.1) / z, 12);
    expect(a[1]).toBeCloseTo(Math.exp(0.4) / z, 12);
    // mu = 2 halves the step
    const b = dogeUpdate([0.5, 0.5], [1, 4], { lr: 0.1, mu: 2 });
    expect(b[1]).toBeCloseTo(Math.exp(0.2) / (Math.exp(0.05) + Math.exp(0.2)), 12);
  });

  it('averages weight vectors', () => {
    expect(
      averageWeights([
        [0.5, 0.5],
        [0.7, 0.3],
      ]),
    ).toEqual([0.6, 0.4]);
    expect(() => averageWeights([])).toThrow(/no weights/);
  });
});

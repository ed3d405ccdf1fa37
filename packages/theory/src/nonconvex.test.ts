import { computeWeights } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { classicalNonConvexBound } from './classical.js';
import { nonConvexBound } from './nonconvex.js';

const alignments = [
  [2, 0.5, -0.3, 1.1],
  [1, 0.2, 0.4, 0.9],
  [0.5, 0.6, 0.1, 0.2],
];

describe('non-convex alignment calculator (corollary for full batch)', () => {
  it('uniform weights reproduce the classical non-convex GD and SGD bounds exactly', () => {
    const steps = alignments.map((a) => ({
      alignments: a,
      weights: computeWeights(a, { strategy: 'uniform', r: 1 }),
    }));
    for (const M of [4, 10, 1000]) {
      const r = nonConvexBound({
        L: 3,
        eta: 0.2,
        sigma: 0.7,
        initialGap: 5,
        datasetSize: M,
        steps,
      });
      expect(r.bound).toBe(classicalNonConvexBound(5, 0.2, 3, 0.7, 4, M, 3));
      expect(r.uniformBound).toBe(r.bound);
      expect(r.result).toBe(M === 4 ? 'corollary-nonconvex-gd' : 'nonconvex-sgd-alignment');
    }
    // Full batch and uniform: no noise term at all (plain gradient descent).
    const gd = nonConvexBound({ L: 3, eta: 0.2, sigma: 0.7, initialGap: 5, datasetSize: 4, steps });
    expect(gd.terms.noise).toBe(0);
  });

  it('non-uniform weights: alignment term and noise term', () => {
    const steps = alignments.map((a) => ({
      alignments: a,
      weights: computeWeights(a, { strategy: 'linupper', r: 0.5 }),
    }));
    const r = nonConvexBound({
      L: 3,
      eta: 0.2,
      sigma: 0.7,
      initialGap: 5,
      datasetSize: 100,
      steps,
    });
    let sumRho = 0;
    let sumNoise = 0;
    const v = (100 - 4) / (4 * 99);
    for (const s of steps) {
      let tau = 0;
      for (let i = 0; i < 4; i++) {
        sumRho += (s.weights[i] - 0.25) * s.alignments[i];
        tau += Math.abs(s.weights[i] - 0.25);
      }
      sumNoise += Math.min(1, (tau + Math.sqrt(v)) ** 2);
    }
    const d = 2 - 0.6;
    expect(r.terms.reweighting).toBeCloseTo((-(2 * (1 - 0.6)) / d) * (sumRho / 3), 12);
    expect(r.terms.noise).toBeCloseTo((0.6 / d) * 0.49 * (sumNoise / 3), 12);
    expect(r.terms.noise).toBeGreaterThan(r.uniformBound - r.terms.initial);
    expect(r.valid).toBe(true);
  });

  it('checks eta < 2/L and rejects a minibatch larger than the dataset', () => {
    const steps = [{ alignments: [1, 2], weights: [0.5, 0.5] }];
    const r = nonConvexBound({ L: 1, eta: 2, sigma: 0, initialGap: 1, datasetSize: 2, steps });
    expect(r.valid).toBe(false);
    expect(r.conditions[0].reason).toMatch(/eta\*L = 2 >= 2; use eta < 2\/L = 2/);
    expect(() =>
      nonConvexBound({ L: 1, eta: 1, sigma: 0, initialGap: 1, datasetSize: 1, steps }),
    ).toThrow(/has 2 weights but datasetSize is 1/);
  });
});

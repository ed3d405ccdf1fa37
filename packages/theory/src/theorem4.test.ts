import { computeWeights } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { classicalNonConvexBound } from './classical.js';
import { theorem4NonConvexSgd } from './theorem4.js';

const gradNorms = [
  [2, 0.5, 0.3, 1.1],
  [1, 0.2, 0.4, 0.9],
  [0.5, 0.6, 0.1, 0.2],
];

describe('Theorem 4 calculator (non-convex minibatch SGD, gradient-norm weights)', () => {
  it('uniform weights reproduce the classical non-convex SGD and GD bounds bit for bit', () => {
    const steps = gradNorms.map((g) => ({ gradNormsSq: g, weights: [0.25, 0.25, 0.25, 0.25] }));
    for (const M of [4, 10, 1000]) {
      const r = theorem4NonConvexSgd({
        L: 3,
        eta: 0.2,
        sigma: 0.7,
        initialGap: 5,
        datasetSize: M,
        steps,
      });
      expect(r.bound).toBe(classicalNonConvexBound(5, 0.2, 3, 0.7, 4, M, 3));
      expect(r.uniformBound).toBe(r.bound);
      expect(r.terms.deviation).toBe(0);
      expect(r.result).toBe('theorem4-nonconvex-sgd');
    }
  });

  it('computes each term of the documented formula', () => {
    const steps = gradNorms.map((g) => ({
      gradNormsSq: g,
      weights: computeWeights(g.map(Math.sqrt), { strategy: 'linupper', r: 0.5 }),
    }));
    const [L, eta, sigma, M] = [3, 0.2, 0.7, 100];
    const r = theorem4NonConvexSgd({ L, eta, sigma, initialGap: 5, datasetSize: M, steps });
    const v = (M - 4) / (4 * (M - 1));
    let sumRho = 0;
    let sumTau = 0;
    let sumNoise = 0;
    for (const s of steps) {
      let tau = 0;
      for (let i = 0; i < 4; i++) {
        sumRho += (s.weights[i] - 0.25) * s.gradNormsSq[i];
        tau += Math.abs(s.weights[i] - 0.25);
      }
      sumTau += tau;
      sumNoise += Math.min(1, (tau + Math.sqrt(v)) ** 2);
    }
    const d = 2 - L * eta;
    expect(r.terms.initial).toBeCloseTo((2 * 5) / (eta * d * 3), 12);
    expect(r.terms.reweighting).toBeCloseTo((-(1 - L * eta) / d) * (sumRho / 3), 12);
    expect(r.terms.deviation).toBeCloseTo(
      (Math.abs(1 - L * eta) / d) * sigma ** 2 * (sumTau / 3 / 2),
      12,
    );
    expect(r.terms.noise).toBeCloseTo(((L * eta) / d) * sigma ** 2 * (sumNoise / 3), 12);
    expect(r.bound).toBe(r.terms.initial + r.terms.reweighting + r.terms.deviation + r.terms.noise);
    expect(sumRho).toBeGreaterThan(0); // weights grow with the gradient norm
    expect(r.terms.reweighting).toBeLessThan(0);
    expect(r.valid).toBe(true);
  });

  it('checks eta < 2/L (NaN at and above it) and rejects bad input', () => {
    const steps = [{ gradNormsSq: [1, 2], weights: [0.5, 0.5] }];
    const r = theorem4NonConvexSgd({
      L: 1,
      eta: 2,
      sigma: 0,
      initialGap: 1,
      datasetSize: 2,
      steps,
    });
    expect(r.valid).toBe(false);
    expect(Number.isNaN(r.bound)).toBe(true);
    expect(r.conditions[0].reason).toMatch(/eta\*L = 2 >= 2; use eta < 2\/L = 2/);
    const above = theorem4NonConvexSgd({
      L: 1,
      eta: 1.5,
      sigma: 0,
      initialGap: 1,
      datasetSize: 2,
      steps,
    });
    expect(above.conditions[0].reason).toMatch(/reweighting term changes sign/);
    expect(() =>
      theorem4NonConvexSgd({ L: 1, eta: 1, sigma: 0, initialGap: 1, datasetSize: 1, steps }),
    ).toThrow(/has 2 weights but datasetSize is 1/);
    expect(() =>
      theorem4NonConvexSgd({
        L: 1,
        eta: 1,
        sigma: 0,
        initialGap: 1,
        datasetSize: 2,
        steps: [{ gradNormsSq: [1, -2], weights: [0.5, 0.5] }],
      }),
    ).toThrow(/steps\[0\]\.gradNormsSq\[1\]: is -2 < 0/);
    expect(() =>
      theorem4NonConvexSgd({
        L: 1,
        eta: 1,
        sigma: 0,
        initialGap: 1,
        datasetSize: 2,
        steps: [{ gradNormsSq: [1, 2], weights: [0.5, 0.6] }],
      }),
    ).toThrow(/steps\[0\]\.weights: sum to 1\.1/);
  });
});

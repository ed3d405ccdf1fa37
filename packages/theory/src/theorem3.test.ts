import { computeWeights } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { classicalConvexBound, classicalHeavyBallBound } from './classical.js';
import {
  heavyBallFromMomentum,
  theorem2HeavyBall,
  theorem2SgdCapFree,
  theorem2SgdCapped,
  theorem3HeavyBall,
  theorem3SgdCapFree,
  theorem3SgdCapped,
} from './theorem3.js';

describe('Theorem 3 (ii), heavy ball', () => {
  const steps = Array.from({ length: 6 }, (_, t) => {
    const gaps = [3 / (t + 1), 1 / (t + 1), 2 / (t + 1)];
    const previousGaps = t === 0 ? gaps : [3 / t, 1 / t, 2 / t];
    return { gaps, previousGaps, weights: computeWeights(gaps, { strategy: 'uniform', r: 1 }) };
  });

  it('uniform weights reproduce the classical SHB bound exactly, and lambda = 0 the SGD one', () => {
    const r = theorem3HeavyBall({
      L: 2,
      eta: 0.4,
      lambda: 3,
      distance0: 1.5,
      initialGap: 0.7,
      steps,
    });
    expect(r.bound).toBe(classicalHeavyBallBound(1.5, 0.7, 0.4, 3, 6));
    expect(r.uniformBound).toBe(r.bound);
    expect(r.valid).toBe(true);
    const sgd = theorem3HeavyBall({
      L: 2,
      eta: 0.4,
      lambda: 0,
      distance0: 1.5,
      initialGap: 0.7,
      steps,
    });
    expect(sgd.bound).toBe(classicalConvexBound(1.5, 0.4, 6));
  });

  it('weights that favour large gaps lower the bound; the momentum term is (1+lambda) rho - lambda rho_prev', () => {
    const weighted = steps.map((s) => ({
      ...s,
      weights: computeWeights(s.gaps, { strategy: 'linupper', r: 0.5 }),
    }));
    const lambda = 2;
    const r = theorem3HeavyBall({
      L: 2,
      eta: 0.4,
      lambda,
      distance0: 1.5,
      initialGap: 0.7,
      steps: weighted,
    });
    let sum = 0;
    for (const s of weighted) {
      let rho = 0;
      let rhoPrev = 0;
      for (let i = 0; i < 3; i++) {
        rho += (s.weights[i] - 1 / 3) * s.gaps[i];
        rhoPrev += (s.weights[i] - 1 / 3) * s.previousGaps[i];
      }
      sum += (1 + lambda) * rho - lambda * rhoPrev;
    }
    expect(r.terms.reweighting).toBeCloseTo(-sum / 6, 12);
    expect(r.bound).toBeLessThan(r.uniformBound);
  });

  it('checks eta <= 1/L (NaN above it) and converts (alpha, beta) to (eta, lambda)', () => {
    const r = theorem3HeavyBall({ L: 2, eta: 0.6, lambda: 1, distance0: 1, initialGap: 1, steps });
    expect(r.valid).toBe(false);
    expect(r.conditions[0].reason).toMatch(/eta\*L = 1\.2 > 1; use eta <= 1\/L = 0\.5/);
    expect(Number.isNaN(r.bound)).toBe(true);
    expect(Number.isNaN(r.terms.initial)).toBe(true);
    expect(Number.isNaN(r.uniformBound)).toBe(true);
    const edge = theorem3HeavyBall({
      L: 2,
      eta: 0.5,
      lambda: 1,
      distance0: 1,
      initialGap: 1,
      steps,
    });
    expect(edge.valid).toBe(true);
    expect(Number.isFinite(edge.bound)).toBe(true);
    expect(heavyBallFromMomentum(0.1, 0.9)).toEqual({
      eta: 0.1 / (1 - 0.9),
      lambda: 0.9 / (1 - 0.9),
    });
    expect(() => heavyBallFromMomentum(0.1, 1)).toThrow(/beta: must satisfy 0 <= beta < 1, got 1/);
  });
});

describe('numbering', () => {
  it('the old Theorem 2 names are deprecated aliases of the Theorem 3 calculators', () => {
    expect(theorem2SgdCapped).toBe(theorem3SgdCapped);
    expect(theorem2SgdCapFree).toBe(theorem3SgdCapFree);
    expect(theorem2HeavyBall).toBe(theorem3HeavyBall);
    const steps = [{ weights: [0.5, 0.5], gaps: [1, 2] }];
    expect(theorem3SgdCapped({ L: 1, eta: 0.1, distance0: 1, steps }).result).toBe(
      'theorem3-sgd-capped',
    );
    expect(theorem3SgdCapFree({ L: 1, eta: 0.1, distance0: 1, steps }).result).toBe(
      'theorem3-sgd-cap-free',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { golden } from '../test/golden.js';
import { computeWeights } from './compute-weights.js';
import { weightStats } from './weight-stats.js';

describe('weightStats', () => {
  it('uniform weights: n * max w = 1, ESS = n, entropy = ln n, rho_hat = 0', () => {
    const losses = [1, 2, 3, 4, 5];
    const s = weightStats(computeWeights(losses, { strategy: 'uniform', r: 1 }), losses);
    expect(s.maxWeightTimesN).toBeCloseTo(1, 14);
    expect(s.capHolds).toBe(true);
    expect(s.effectiveSampleSize).toBeCloseTo(5, 12);
    expect(s.entropy).toBeCloseTo(Math.log(5), 14);
    expect(s.rhoHat).toBeCloseTo(0, 14);
    expect(s.meanLoss).toBe(3);
  });

  it('one sample holding all the weight: ESS 1, entropy 0, n * max w = n', () => {
    const s = weightStats([0, 1, 0, 0], [1, 9, 2, 3]);
    expect(s).toMatchObject({ effectiveSampleSize: 1, entropy: 0, maxWeightTimesN: 4 });
    expect(s.capHolds).toBe(false);
    expect(s.rhoHat).toBeCloseTo(9 - 3.75, 14);
  });

  it('golden typical_lm_8, LinUpper r = 0.4: n * max w = 2.33 breaks the cap, rho_hat > 0', () => {
    const c = golden.cases.find(
      (g) => g.name === 'typical_lm_8' && g.strategy === 'linupper' && g.r === 0.4,
    );
    if (c === undefined) throw new Error('golden case typical_lm_8 linupper r=0.4 missing');
    const losses = golden.loss_vectors[c.name];
    const s = weightStats(c.weights, losses);
    expect(s.maxWeightTimesN).toBeCloseTo(c.max_weight_times_n, 12);
    expect(s.maxWeightTimesN).toBeCloseTo(2.33, 2);
    expect(s.capHolds).toBe(false);
    expect(s.weightedLoss).toBeCloseTo(c.weighted_loss_sum_w_l, 12);
    const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
    expect(s.rhoHat).toBeCloseTo(c.weighted_loss_sum_w_l - mean, 12);
    // ESS and entropy against their definitions.
    expect(s.effectiveSampleSize).toBeCloseTo(1 / c.weights.reduce((a, w) => a + w * w, 0), 10);
    expect(s.entropy).toBeCloseTo(-c.weights.reduce((a, w) => a + w * Math.log(w), 0), 12);
  });

  it('exactly 2/n is within the cap', () => {
    expect(weightStats([0.5, 0.5, 0, 0], [1, 1, 1, 1]).capHolds).toBe(true);
  });

  it('rejects mismatched lengths', () => {
    expect(() => weightStats([1], [1, 2])).toThrow(/losses has 2 entries but weights has 1/);
    expect(() => weightStats([1], [1], { active: [1, 1] })).toThrow(/active has 2 entries/);
  });
});

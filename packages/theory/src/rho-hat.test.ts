import { computeWeights } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { RunningAverage, rhoHat } from './rho-hat.js';

describe('rhoHat', () => {
  it('is the weighted loss minus the mean loss', () => {
    const losses = [2.1, 2.5, 4.8, 3.0];
    const w = computeWeights(losses, { strategy: 'linupper', r: 0.4 });
    const weighted = losses.reduce((a, l, i) => a + w[i] * l, 0);
    const mean = losses.reduce((a, l) => a + l, 0) / 4;
    expect(rhoHat(w, losses)).toBeCloseTo(weighted - mean, 14);
    expect(rhoHat(w, losses)).toBeGreaterThan(0); // up-weights the high losses
    expect(rhoHat(computeWeights(losses, { strategy: 'uniform', r: 1 }), losses)).toBe(0);
    // Favouring low losses gives rho < 0.
    const low = computeWeights(
      losses.map((l) => -l),
      { strategy: 'linear', r: 0.4 },
    );
    expect(rhoHat(low, losses)).toBeLessThan(0);
  });

  it('rejects mismatched arrays and weights off the simplex (naming the sum)', () => {
    expect(() => rhoHat([0.5, 0.5], [1])).toThrow(/losses: has length 1 but must have length 2/);
    expect(() => rhoHat([1], [Number.NaN])).toThrow(/losses\[0\]: must be finite/);
    expect(() => rhoHat([0.5, 0.6], [1, 2])).toThrow(
      /weights: sum to 1\.1, not 1 \(within 0\.00001\)/,
    );
    expect(() => rhoHat([1.5, -0.5], [1, 2])).toThrow(/weights\[1\]: is -0\.5 < 0/);
    // Float32 weights (rounded softmax) are accepted.
    const w32 = Float32Array.from(
      computeWeights([2.1, 2.5, 4.8, 3.0], { strategy: 'linupper', r: 0.4 }),
    );
    expect(Number.isFinite(rhoHat(w32, [2.1, 2.5, 4.8, 3.0]))).toBe(true);
  });
});

describe('RunningAverage', () => {
  it('tracks the mean and the EMA, and resumes from state()', () => {
    const a = new RunningAverage({ beta: 0.5 });
    expect(Number.isNaN(a.mean)).toBe(true);
    a.push(1);
    a.push(3);
    expect(a.mean).toBe(2);
    expect(a.ema).toBe(2); // 0.5 * 1 + 0.5 * 3
    const b = new RunningAverage({ beta: 0.5 });
    b.load(JSON.parse(JSON.stringify(a.state())));
    a.push(5);
    b.push(5);
    expect(b.mean).toBe(a.mean);
    expect(b.ema).toBe(a.ema);
    expect(b.length).toBe(3);
    expect(() => new RunningAverage({ beta: 0.9 }).load(a.state())).toThrow(/state\.beta: is 0\.5/);
  });

  it('compensated summation: a million values of 0.1 average to 0.1', () => {
    const a = new RunningAverage();
    for (let i = 0; i < 1_000_000; i++) a.push(0.1);
    expect(Math.abs(a.mean - 0.1)).toBeLessThan(1e-16);
    expect(() => a.push(Number.POSITIVE_INFINITY)).toThrow(/value: must be finite/);
  });
});

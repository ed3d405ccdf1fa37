import { describe, expect, it } from 'vitest';
import { hashSeed, permutation, Rng } from './random.js';

describe('Rng and permutation', () => {
  it('is deterministic for a seed and resumes from its state', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 10; i++) a.nextUint32();
    for (let i = 0; i < 10; i++) b.nextUint32();
    const saved = a.state();
    const next = [a.nextFloat(), a.nextFloat()];
    expect([b.nextFloat(), b.nextFloat()]).toEqual(next);
    expect([Rng.fromState(saved).nextFloat()]).toEqual([next[0]]);
    expect(new Rng(43).nextUint32()).not.toBe(new Rng(42).nextUint32());
  });

  it('draws floats in [0, 1) with the right mean', () => {
    const rng = new Rng(7);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = rng.nextFloat();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
    }
    // Standard error of the mean is 1/sqrt(12 * 1e5) ~ 0.0009.
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.004);
  });

  it('permutes every index exactly once; hashSeed separates labels', () => {
    const p = permutation(1000, new Rng(1));
    expect([...p].sort((x, y) => x - y)).toEqual([...Array(1000).keys()]);
    expect([...permutation(5, null)]).toEqual([0, 1, 2, 3, 4]);
    expect(hashSeed(1, 'a', 0)).not.toBe(hashSeed(1, 'a', 1));
    expect(hashSeed(1, 'ab')).not.toBe(hashSeed(1, 'ba'));
    expect(hashSeed(1, 'x')).toBe(hashSeed(1, 'x'));
  });
});

import { describe, expect, it } from 'vitest';
import {
  defaultGenerator,
  dropout,
  Generator,
  manualSeed,
  ones,
  randn,
  tidy,
  uniform,
} from './index.js';
import { philox4x32 } from './philox.js';

describe('Philox 4x32-10', () => {
  // Known-answer vectors from Random123's kat_vectors (Salmon et al., SC 2011).
  it.each([
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ])('matches the Random123 known answer for counter %j key %j', (c, k, want) => {
    const out = new Uint32Array(4);
    philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
    expect(Array.from(out)).toEqual(want);
  });

  it('gives normal and uniform samples with the right moments', () => {
    tidy(() => {
      const n = randn([20000], { seed: 5 });
      const m = n.mean().itemSync();
      const v = n.square().mean().itemSync() - m * m;
      expect(Math.abs(m)).toBeLessThan(0.03);
      expect(Math.abs(v - 1)).toBeLessThan(0.05);
      const u = uniform([20000], { seed: 6, low: 2, high: 4 });
      expect(u.min().itemSync()).toBeGreaterThanOrEqual(2);
      expect(u.max().itemSync()).toBeLessThan(4);
      expect(Math.abs(u.mean().itemSync() - 3)).toBeLessThan(0.02);
    });
  });

  it('is a pure function of (seed, offset): slices of a stream agree', () => {
    tidy(() => {
      const whole = randn([10], { seed: 9 }).dataSync();
      const tail = randn([4], { seed: 9, offset: 6 }).dataSync();
      expect(Array.from(tail)).toEqual(Array.from(whole.slice(6)));
      const u = uniform([12], { seed: 9 }).dataSync();
      const u2 = uniform([4], { seed: 9, offset: 2 }).dataSync(); // 4 uniforms per counter
      expect(Array.from(u2)).toEqual(Array.from(u.slice(8)));
    });
  });

  it('generators hand out disjoint streams and resume from state()', () => {
    tidy(() => {
      const g = new Generator(3);
      const a = randn([5], { generator: g }).dataSync();
      const s = g.state();
      const b = randn([5], { generator: g }).dataSync();
      expect(Array.from(a)).not.toEqual(Array.from(b));
      const h = new Generator();
      h.load(s);
      expect(Array.from(randn([5], { generator: h }).dataSync())).toEqual(Array.from(b));
      manualSeed(123);
      const first = randn([3]).dataSync();
      manualSeed(123);
      expect(Array.from(randn([3]).dataSync())).toEqual(Array.from(first));
      expect(defaultGenerator().state()).toEqual({ seed: 123, offset: 3 });
      expect(() => randn([2], { seed: 1, generator: g })).toThrow(/either seed or generator/);
      expect(() => new Generator(-1)).toThrow(/non-negative safe integer/);
    });
  });

  it('dropout keeps about 1-p of the elements, scaled, deterministically, and is the identity in eval', () => {
    tidy(() => {
      const x = ones([10000]);
      const y = dropout(x, 0.25, { seed: 4 }).dataSync();
      const kept = y.filter((v) => v !== 0);
      expect(Math.abs(kept.length / 10000 - 0.75)).toBeLessThan(0.02);
      for (const v of kept) expect(v).toBeCloseTo(1 / 0.75, 6);
      expect(Array.from(dropout(x, 0.25, { seed: 4 }).dataSync())).toEqual(Array.from(y));
      expect(Array.from(dropout(x, 0.25, { seed: 4, training: false }).dataSync())).toEqual(
        Array.from(x.dataSync()),
      );
      expect(() => dropout(x, 1)).toThrow(/p must be in \[0, 1\)/);
    });
  });
});

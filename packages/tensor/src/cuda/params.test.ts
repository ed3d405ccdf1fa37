import { describe, expect, it } from 'vitest';
import { sizeClass } from './backend.js';
import { flattenSource, kernelNames } from './kernel-source.js';
import { SOURCE_ENTRY } from './module.js';
import { Args } from './params.js';

describe('kernel parameter packing', () => {
  it("writes int64 (two's complement) and float64 words in order, counting bytes", () => {
    const a = new Args(new ArrayBuffer(64));
    a.i(5)
      .i(-100)
      .i(2 ** 40 + 3)
      .f(0.5)
      .ints([7, 8], 3, 1);
    expect(a.bytes).toBe(56);
    const v = new DataView(a.buffer);
    expect(v.getBigInt64(0, true)).toBe(5n);
    expect(v.getBigInt64(8, true)).toBe(-100n);
    expect(v.getBigInt64(16, true)).toBe(2n ** 40n + 3n);
    expect(v.getFloat64(24, true)).toBe(0.5);
    expect([32, 40, 48].map((o) => v.getBigInt64(o, true))).toEqual([7n, 8n, 1n]);
    expect(() => a.reset().i(2 ** 53)).toThrow(/not a safe integer/);
  });

  it('pool size classes: 256-byte steps to 4 KiB, then at most 25% slack', () => {
    expect([1, 256, 257, 4096, 4097].map(sizeClass)).toEqual([256, 256, 512, 4096, 5120]);
    for (let b = 1; b < 1e8; b = Math.ceil(b * 1.37)) {
      const c = sizeClass(b);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c % 256).toBe(0);
      if (b > 4096) expect(c / b).toBeLessThanOrEqual(1.25);
    }
  });

  it('the kernel sources flatten to one unit defining every kernel once', () => {
    const src = flattenSource(SOURCE_ENTRY);
    expect(src).not.toMatch(/#include/);
    const names = kernelNames(src);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('lrw_attn_dkdv_128');
    expect(names.length).toBe(43);
  });
});

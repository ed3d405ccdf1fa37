import { describe, expect, it } from 'vitest';
import { arange, tidy } from './index.js';
import { contiguousStrides, viewStrides } from './shape.js';

// Reshape of strided views: where viewStrides finds strides, the view must read the same
// elements, in the same order, as a reshape of a contiguous copy (checked by value on
// distinct elements); where it finds none, reshape copies.
describe('viewStrides (reshape without copying)', () => {
  it('splits and merges axes of contiguous and strided layouts', () => {
    expect(viewStrides([4, 6], [6, 1], [2, 2, 3, 2])).toEqual(contiguousStrides([2, 2, 3, 2]));
    // A [B, T, C] slice of [B, T, 3C] (rows 3C apart) split into heads [B, T, H, D].
    expect(viewStrides([2, 5, 8], [120, 24, 1], [2, 5, 2, 4])).toEqual([120, 24, 4, 1]);
    // A permuted [B, H, T, D] view keeps its shape; merging its T and H axes back is impossible.
    expect(viewStrides([2, 3, 5, 4], [60, 4, 12, 1], [2, 3, 5, 4])).toEqual([60, 4, 12, 1]);
    expect(viewStrides([2, 3, 5, 4], [60, 4, 12, 1], [2, 15, 4])).toBeUndefined();
    expect(viewStrides([2, 3], [1, 2], [6])).toBeUndefined();
    expect(viewStrides([3, 1, 4], [4, 99, 1], [12])).toEqual([1]);
  });

  it('reshape of strided views reads the same elements as a reshape of a copy', () =>
    tidy(() => {
      const base = arange(2 * 5 * 24).reshape([2, 5, 24]);
      const cases = [
        { t: base.slice(2, 8, 16), shape: [2, 5, 2, 4] },
        { t: base.slice(2, 8, 16).reshape([2, 5, 2, 4]).transpose(1, 2), shape: [2, 2, 5, 4] },
        { t: base.slice(2, 8, 16).reshape([2, 5, 2, 4]).transpose(1, 2), shape: [4, 5, 4] },
        { t: base.transpose(0, 1), shape: [10, 24] },
        { t: base.slice(1, 1, 4), shape: [6, 24] },
      ];
      for (const { t, shape } of cases) {
        const want = Array.from(t.contiguous().reshape(shape).dataSync());
        const r = t.reshape(shape);
        expect(r.shape).toEqual(shape);
        expect(Array.from(r.dataSync())).toEqual(want);
      }
    }));
});

import { describe, expect, it } from 'vitest';
import { tensor, tidy, UnsupportedOpError } from '../index.js';
import {
  bfloat16BitsToFloat,
  float16BitsToFloat,
  floatToBfloat16Bits,
  floatToFloat16Bits,
} from './half-precision.js';

describe('half-precision storage', () => {
  // Bit patterns from IEEE 754 binary16 and the bfloat16 definition (upper half of binary32).
  it.each([
    [1, 0x3c00, 0x3f80],
    [-2.5, 0xc100, 0xc020],
    [1 / 3, 0x3555, 0x3eab],
    [0.1, 0x2e66, 0x3dcd],
    [65504, 0x7bff, 0x4780], // bfloat16 rounds 0x477fe000 up
    [70000, 0x7c00, 0x4789], // float16 overflows to infinity
    [2 ** -24, 0x0001, 0x3380], // smallest float16 subnormal
    [1e-9, 0x0000, 0x3089], // float16 underflows to zero
    [0, 0x0000, 0x0000],
  ])('%f encodes to float16 %i and bfloat16 %i', (x, f16, bf16) => {
    expect(floatToFloat16Bits(x)).toBe(f16);
    expect(floatToBfloat16Bits(x)).toBe(bf16);
  });

  it('decodes exactly and round-trips every float16 and bfloat16 bit pattern (except NaN payloads)', () => {
    expect(float16BitsToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(bfloat16BitsToFloat(0x3eab)).toBeCloseTo(0.333984375, 12);
    expect(Number.isNaN(float16BitsToFloat(0x7e00))).toBe(true);
    expect(Number.isNaN(bfloat16BitsToFloat(floatToBfloat16Bits(Number.NaN)))).toBe(true);
    const bad: string[] = [];
    for (let b = 0; b < 0x10000; b++) {
      const f16Nan = (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;
      if (!f16Nan && floatToFloat16Bits(float16BitsToFloat(b)) !== b) bad.push(`f16 ${b}`);
      const bf16Nan = (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
      if (!bf16Nan && floatToBfloat16Bits(bfloat16BitsToFloat(b)) !== b) bad.push(`bf16 ${b}`);
    }
    expect(bad).toEqual([]);
  });

  it('tensors store half precision, cast to float32 to compute, and copy views', () => {
    tidy(() => {
      const h = tensor([1, -2.5, 1 / 3, 0.1], { dtype: 'bfloat16' });
      expect(h.dtype).toBe('bfloat16');
      expect(h.storage.bytes).toBe(8);
      expect(Array.from(h.cast('float32').dataSync())).toEqual([
        1, -2.5, 0.333984375, 0.10009765625,
      ]);
      const raw = tensor(new Uint16Array([0x3c00, 0xc100]), { dtype: 'float16' });
      expect(raw.cast('float32').toArraySync()).toEqual([1, -2.5]);
      const m = tensor([1, 2, 3, 4, 5, 6], { dtype: 'float16', shape: [2, 3] });
      expect(m.mT.contiguous().cast('float32').toArraySync()).toEqual([
        [1, 4],
        [2, 5],
        [3, 6],
      ]);
      expect(tensor([0.1, 3]).cast('float16').cast('float32').dataSync()[0]).toBeCloseTo(
        0.0999755859375,
        12,
      );
      expect(() => h.dataSync()).toThrow(/cast to float32 before reading/);
      // Raw bits come back as bytes (what a bf16 safetensors file stores), views included.
      expect(Array.from(new Uint16Array(h.bytesSync().buffer))).toEqual([
        0x3f80, 0xc020, 0x3eab, 0x3dcd,
      ]);
      expect(Array.from(new Uint16Array(m.mT.bytesSync().buffer))).toEqual([
        0x3c00, 0x4400, 0x4000, 0x4500, 0x4200, 0x4600,
      ]);
      let err: unknown;
      try {
        h.add(1);
      } catch (e) {
        err = e;
      }
      expect(UnsupportedOpError.isInstance(err)).toBe(true);
    });
  });
});

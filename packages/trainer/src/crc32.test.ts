import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from './crc32.js';

/** Bit-at-a-time reference, straight from the definition. */
function crc32Bitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32', () => {
  it('gives the standard check values', () => {
    const enc = new TextEncoder();
    for (const f of [crc32, crc32Js]) {
      expect(f(enc.encode('123456789'))).toBe(0xcbf43926);
      expect(f(new Uint8Array(0))).toBe(0);
      expect(f(enc.encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    }
  });

  it('matches the bitwise definition on every length 0..40 and continues across chunks (native and JS)', () => {
    let seed = 12345;
    const bytes = Uint8Array.from({ length: 1000 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    });
    for (let len = 0; len <= 40; len++) {
      const expected = crc32Bitwise(bytes.subarray(0, len));
      expect(crc32Js(bytes.subarray(0, len))).toBe(expected);
      expect(crc32(bytes.subarray(0, len))).toBe(expected);
    }
    const whole = crc32Bitwise(bytes);
    expect(crc32Js(bytes)).toBe(whole);
    expect(crc32(bytes)).toBe(whole);
    expect(crc32Js(bytes.subarray(333), crc32Js(bytes.subarray(0, 333)))).toBe(whole);
    expect(crc32(bytes.subarray(333), crc32(bytes.subarray(0, 333)))).toBe(whole);
    // an empty view over a zero-length buffer (an empty tensor) keeps the running value
    const empty = new Uint8Array(new Float32Array(0).buffer);
    expect(crc32(empty, 12345)).toBe(12345);
    expect(crc32Js(empty, 12345)).toBe(12345);
    // unaligned views
    expect(crc32Js(bytes.subarray(3, 501))).toBe(crc32Bitwise(bytes.subarray(3, 501)));
  });
});

import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';

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
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(enc.encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('matches the bitwise definition on every length 0..40 and continues across chunks', () => {
    let seed = 12345;
    const bytes = Uint8Array.from({ length: 1000 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    });
    for (let len = 0; len <= 40; len++) {
      expect(crc32(bytes.subarray(0, len))).toBe(crc32Bitwise(bytes.subarray(0, len)));
    }
    const whole = crc32(bytes);
    expect(whole).toBe(crc32Bitwise(bytes));
    expect(crc32(bytes.subarray(333), crc32(bytes.subarray(0, 333)))).toBe(whole);
    // node:zlib has crc32 from Node 20.15 / 22.2; compare when it is there
    if (typeof zlibCrc32 === 'function') expect(whole).toBe(zlibCrc32(bytes));
  });
});

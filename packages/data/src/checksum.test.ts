import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from './checksum.js';

describe('crc32', () => {
  it('gives the standard check value of "123456789"', () => {
    // The CRC-32/ISO-HDLC check value from the CRC catalogue (reveng.sourceforge.io).
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  const zlibCrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  it.skipIf(!zlibCrc)('matches zlib.crc32 on random buffers of every length mod 8', () => {
    for (let n = 0; n < 70; n++) {
      const data = randomBytes(n * 13 + (n % 8));
      expect(crc32(data)).toBe(zlibCrc?.(data));
    }
  });

  it('continues across pieces', () => {
    const data = randomBytes(1000);
    expect(crc32(data.subarray(300), crc32(data.subarray(0, 300)))).toBe(crc32(data));
  });
});

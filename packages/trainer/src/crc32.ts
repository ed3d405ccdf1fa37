import * as zlib from 'node:zlib';
import { crc32 as crc32Data } from '@lrw/data';

/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320; the checksum of zip, gzip and PNG).
 * `crc32(bytes)` of "123456789" is 0xCBF43926, the standard check value.
 *
 * Uses node:zlib's native crc32 where Node has it (20.15+, 22.2+): about 4-7x faster than the
 * JavaScript slicing-by-8 fallback `crc32Js` on the same bytes (bench/checkpoint-io.mjs), which
 * matters for checkpoints of hundreds of MB. Both give identical values (tested).
 */
const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * Continues a CRC over more bytes: `crc32(b, crc32(a))` equals `crc32(a ++ b)`.
 * Start from 0 (the default).
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  // node:zlib (Node 20.20) returns 0, not `previous`, for an empty view of a zero-length
  // ArrayBuffer (e.g. the bytes of an empty tensor); nothing to add is `previous` by definition.
  if (bytes.length === 0) return previous >>> 0;
  return native === undefined ? crc32Js(bytes, previous) : native(bytes, previous);
}

/**
 * The pure-JavaScript CRC-32 used when node:zlib has no crc32: @lrw/data's slicing-by-8
 * implementation (the same checksum its shards carry), not a second copy of it.
 */
export function crc32Js(bytes: Uint8Array, previous = 0): number {
  return crc32Data(bytes, previous);
}

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { writeFileAtomicSync } from '@lrw/atomic-file';
import { crc32 } from '../checksum.js';
import { ShardChecksumError, ShardFormatError, ShardMissingError } from '../errors.js';

// Shard file, version 1 (little-endian; all sections 4-byte aligned):
//   header, 64 bytes:
//     0  magic "LRWSHARD" (8 bytes)     8  version u32 = 1
//     12 tokenBytes u32 (2 = uint16, 4 = uint32)
//     16 numDocs u32                    20 numTokens u32
//     24 vocabSize u32                  28 eotId u32
//     32 payloadCrc u32 (CRC-32 of every byte after the header)
//     36 fingerprint u32 (CRC-32 of the tokenizer name and the source texts, to skip on rerun)
//     40..59 reserved (zero)            60 headerCrc u32 (CRC-32 of bytes 0..59)
//   docOffsets u32[numDocs + 1]: document d is tokens[docOffsets[d] .. docOffsets[d+1])
//   domainIds  u16[numDocs], padded with zeros to a multiple of 4 bytes
//   tokens     uint16 or uint32 [numTokens]; no end-of-text ids: the stream inserts them
// The layout follows llm.c's .bin files (magic, version, count, tokens) plus offsets, domains
// and checksums, so a shard can be read by a 20-line script in any language.
export const SHARD_MAGIC = 'LRWSHARD';
export const SHARD_VERSION = 1;
export const HEADER_BYTES = 64;

export interface ShardHeader {
  version: number;
  tokenBytes: 2 | 4;
  numDocs: number;
  numTokens: number;
  vocabSize: number;
  eotId: number;
  payloadCrc: number;
  fingerprint: number;
}

export interface ShardData {
  header: ShardHeader;
  docOffsets: Uint32Array;
  domainIds: Uint16Array;
  tokens: Uint16Array | Uint32Array;
}

export interface ShardContents {
  tokenBytes: 2 | 4;
  vocabSize: number;
  eotId: number;
  fingerprint: number;
  /** Token count of each document, in order. */
  docLengths: ArrayLike<number>;
  domainIds: ArrayLike<number>;
  /** All documents' tokens, concatenated. */
  tokens: ArrayLike<number>;
}

if (endianness() !== 'LE') {
  throw new Error('@lrw/data shards are little-endian; this big-endian host is not supported');
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function payloadBytes(numDocs: number, numTokens: number, tokenBytes: number): number {
  return 4 * (numDocs + 1) + align4(2 * numDocs) + tokenBytes * numTokens;
}

/** Encodes a shard into its bytes (header + payload). */
export function encodeShard(c: ShardContents): Uint8Array {
  const numDocs = c.docLengths.length;
  const numTokens = c.tokens.length;
  if (numTokens > 0xffffffff) throw new RangeError(`shard too large: ${numTokens} tokens`);
  const size = HEADER_BYTES + payloadBytes(numDocs, numTokens, c.tokenBytes);
  const bytes = new Uint8Array(size);
  const offsets = new Uint32Array(bytes.buffer, HEADER_BYTES, numDocs + 1);
  for (let d = 0, acc = 0; d <= numDocs; d++) {
    offsets[d] = acc;
    if (d < numDocs) acc += c.docLengths[d];
  }
  if (offsets[numDocs] !== numTokens) {
    throw new RangeError(`document lengths sum to ${offsets[numDocs]}, not ${numTokens} tokens`);
  }
  const domainStart = HEADER_BYTES + 4 * (numDocs + 1);
  new Uint16Array(bytes.buffer, domainStart, numDocs).set(c.domainIds);
  const tokenStart = domainStart + align4(2 * numDocs);
  const tokens =
    c.tokenBytes === 2
      ? new Uint16Array(bytes.buffer, tokenStart, numTokens)
      : new Uint32Array(bytes.buffer, tokenStart, numTokens);
  tokens.set(c.tokens);
  for (let i = 0; i < numTokens; i++) {
    if (tokens[i] !== c.tokens[i] || c.tokens[i] >= c.vocabSize) {
      throw new RangeError(`token id ${c.tokens[i]} at ${i} does not fit vocabSize ${c.vocabSize}`);
    }
  }
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = SHARD_MAGIC.charCodeAt(i);
  view.setUint32(8, SHARD_VERSION, true);
  view.setUint32(12, c.tokenBytes, true);
  view.setUint32(16, numDocs, true);
  view.setUint32(20, numTokens, true);
  view.setUint32(24, c.vocabSize, true);
  view.setUint32(28, c.eotId, true);
  view.setUint32(32, crc32(bytes.subarray(HEADER_BYTES)), true);
  view.setUint32(36, c.fingerprint >>> 0, true);
  view.setUint32(60, crc32(bytes.subarray(0, 60)), true);
  return bytes;
}

/** Writes a shard atomically; returns its header. */
export function writeShard(path: string, contents: ShardContents): ShardHeader {
  const bytes = encodeShard(contents);
  writeFileAtomicSync(path, [bytes]);
  return parseHeader(path, bytes);
}

/** Parses and checks a shard header (magic, version, header checksum). */
export function parseHeader(file: string, bytes: Uint8Array): ShardHeader {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new ShardFormatError(file, `${bytes.byteLength} bytes, shorter than the 64-byte header`);
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== SHARD_MAGIC) {
    throw new ShardFormatError(
      file,
      `bad magic ${JSON.stringify(magic)}, expected "${SHARD_MAGIC}": not an @lrw/data shard`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const headerCrc = crc32(bytes.subarray(0, 60));
  if (view.getUint32(60, true) !== headerCrc) {
    throw new ShardChecksumError(file, view.getUint32(60, true), headerCrc);
  }
  const version = view.getUint32(8, true);
  if (version !== SHARD_VERSION) {
    throw new ShardFormatError(
      file,
      `shard format version ${version}; this @lrw/data reads version ${SHARD_VERSION}`,
      'rebuild the dataset with this version of prepare(), or use the @lrw/data version that wrote it',
    );
  }
  const tokenBytes = view.getUint32(12, true);
  if (tokenBytes !== 2 && tokenBytes !== 4) {
    throw new ShardFormatError(file, `token size ${tokenBytes} bytes; expected 2 or 4`);
  }
  return {
    version,
    tokenBytes,
    numDocs: view.getUint32(16, true),
    numTokens: view.getUint32(20, true),
    vocabSize: view.getUint32(24, true),
    eotId: view.getUint32(28, true),
    payloadCrc: view.getUint32(32, true),
    fingerprint: view.getUint32(36, true),
  };
}

/**
 * A shard file that cannot be read becomes a ShardMissingError naming it (instead of a bare
 * ENOENT); other errors pass through.
 */
function unreadable(file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ShardMissingError(file, 'the file does not exist');
  if (code === 'EISDIR') return new ShardMissingError(file, 'it is a folder, not a file');
  if (code === 'EACCES' || code === 'EPERM') {
    return new ShardMissingError(file, `this process may not read it (${code})`);
  }
  return error as Error;
}

/** Reads only the 64-byte header (no payload verification). */
export function readShardHeader(file: string): ShardHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw unreadable(file, error);
  }
  try {
    const bytes = new Uint8Array(HEADER_BYTES);
    const n = readSync(fd, bytes, 0, HEADER_BYTES, 0);
    return parseHeader(file, bytes.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole shard and verifies its size and checksums. */
export function readShard(file: string): ShardData {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw unreadable(file, error);
  }
  return decodeShard(file, bytes);
}

/** Reads a whole shard without blocking the event loop, verifying it as readShard does. */
export async function readShardAsync(file: string): Promise<ShardData> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw unreadable(file, error);
  }
  return decodeShard(file, bytes);
}

/** A shard's bytes, verified (size and checksums) and viewed as its sections. */
export function decodeShard(file: string, input: Uint8Array): ShardData {
  let bytes = input;
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  const header = parseHeader(file, bytes);
  const expected = HEADER_BYTES + payloadBytes(header.numDocs, header.numTokens, header.tokenBytes);
  if (bytes.byteLength !== expected) {
    throw new ShardFormatError(
      file,
      `${bytes.byteLength} bytes, but its header describes ${expected} bytes (${header.numDocs} documents, ${header.numTokens} tokens): the shard is truncated or has trailing bytes`,
    );
  }
  const actual = crc32(bytes.subarray(HEADER_BYTES));
  if (actual !== header.payloadCrc) throw new ShardChecksumError(file, header.payloadCrc, actual);
  const base = bytes.byteOffset;
  const docOffsets = new Uint32Array(bytes.buffer, base + HEADER_BYTES, header.numDocs + 1);
  const domainStart = base + HEADER_BYTES + 4 * (header.numDocs + 1);
  const domainIds = new Uint16Array(bytes.buffer, domainStart, header.numDocs);
  const tokenStart = domainStart + align4(2 * header.numDocs);
  const tokens =
    header.tokenBytes === 2
      ? new Uint16Array(bytes.buffer, tokenStart, header.numTokens)
      : new Uint32Array(bytes.buffer, tokenStart, header.numTokens);
  return { header, docOffsets, domainIds, tokens };
}

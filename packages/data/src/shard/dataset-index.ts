import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '@lrw/atomic-file';
import { Packr } from 'msgpackr';
import { crc32 } from '../checksum.js';
import { ShardChecksumError, ShardFormatError } from '../errors.js';
import type { TokenizerSpec } from '../tokenizers/tokenizer.js';

// The dataset index (`index.lrw`): a 16-byte frame (magic "LRWINDEX", version u32, CRC-32 of
// the body u32) around a msgpack body (msgpackr with moreTypes, so typed arrays and Maps
// round-trip). It is written last, atomically, so a dataset folder with an index is complete.
export const INDEX_FILE = 'index.lrw';
const INDEX_MAGIC = 'LRWINDEX';
const INDEX_VERSION = 1;
const packr = new Packr({ moreTypes: true, useRecords: false });

export type Split = 'train' | 'validation';

export interface ShardEntry {
  /** File name inside the dataset folder. */
  file: string;
  split: Split;
  domain: string;
  domainId: number;
  /** Index of the shard within its (split, domain). */
  index: number;
  documents: number;
  tokens: number;
  /** UTF-8 bytes of the source text of its documents. */
  textBytes: number;
  payloadCrc: number;
  fingerprint: number;
}

export interface DomainStats {
  documents: number;
  textBytes: number;
  tokens: number;
}

export interface DatasetIndex {
  format: 'lrw-data';
  version: number;
  tokenizer: { name: string; vocabSize: number; eotId: number; spec: TokenizerSpec };
  tokenBytes: 2 | 4;
  /** Domain names; a domain id is an index into this list. */
  domains: string[];
  seed: number;
  validation: { fraction?: number; documents?: number };
  shards: ShardEntry[];
  stats: {
    train: Record<string, DomainStats>;
    validation: Record<string, DomainStats>;
    skippedLines: number;
    emptyDocuments: number;
    /**
     * Documents whose text had invalid UTF-8 (or, in JSON, unpaired surrogate escapes), replaced
     * by U+FFFD; absent in indexes written before it was counted.
     */
    invalidUtf8Documents?: number;
  };
  createdBy: string;
}

export function writeIndex(path: string, index: DatasetIndex): void {
  const body = packr.pack(index);
  const head = new Uint8Array(16);
  for (let i = 0; i < 8; i++) head[i] = INDEX_MAGIC.charCodeAt(i);
  const view = new DataView(head.buffer);
  view.setUint32(8, INDEX_VERSION, true);
  view.setUint32(12, crc32(body), true);
  writeFileAtomicSync(path, [head, body]);
}

export function readIndex(path: string): DatasetIndex {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ShardFormatError(
      path,
      `cannot read the dataset index (${(error as Error).message})`,
      'point openDataset() at a folder written by prepare(); an interrupted prepare() leaves no index: run it again',
    );
  }
  if (bytes.byteLength < 16 || String.fromCharCode(...bytes.subarray(0, 8)) !== INDEX_MAGIC) {
    throw new ShardFormatError(path, 'not an @lrw/data dataset index (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const version = view.getUint32(8, true);
  if (version !== INDEX_VERSION) {
    throw new ShardFormatError(path, `index version ${version}; expected ${INDEX_VERSION}`);
  }
  const body = bytes.subarray(16);
  const actual = crc32(body);
  if (actual !== view.getUint32(12, true)) {
    throw new ShardChecksumError(path, view.getUint32(12, true), actual, 'dataset index');
  }
  return packr.unpack(body) as DatasetIndex;
}

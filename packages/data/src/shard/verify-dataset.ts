import { join } from 'node:path';
import { ShardFormatError } from '../errors.js';
import type { DatasetIndex, Split } from './dataset-index.js';
import { HEADER_BYTES, readShardAsync } from './shard-format.js';

export interface VerifyOptions {
  /** Only the shards of this split (default: both). */
  split?: Split;
  /** Checked between shards: when it is aborted, verification stops with its reason. */
  signal?: AbortSignal;
  /** Called after each shard with the shards and bytes verified so far. */
  onShard?: (progress: { done: number; total: number; bytes: number }) => void;
}

export interface VerifyResult {
  shards: number;
  bytes: number;
  seconds: number;
}

/**
 * Reads every shard the index lists (one at a time, without blocking the event loop) and checks
 * that it is there, complete, matches its own checksums, and is the shard the index recorded
 * (payload checksum, documents, tokens, vocabulary). A training run calls it before its first
 * step, so a deleted, truncated or replaced shard stops the run at start-up with the file's name
 * instead of at the step or evaluation that first reads it.
 */
export async function verifyDataset(
  dir: string,
  index: DatasetIndex,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const started = performance.now();
  const entries = index.shards.filter(
    (s) => options.split === undefined || s.split === options.split,
  );
  let bytes = 0;
  for (const [i, entry] of entries.entries()) {
    options.signal?.throwIfAborted();
    const file = join(dir, entry.file);
    const shard = await readShardAsync(file);
    const h = shard.header;
    const mismatch: string[] = [];
    if (h.payloadCrc !== entry.payloadCrc) mismatch.push('payload checksum');
    if (h.numDocs !== entry.documents)
      mismatch.push(`documents (${h.numDocs}, index ${entry.documents})`);
    if (h.numTokens !== entry.tokens)
      mismatch.push(`tokens (${h.numTokens}, index ${entry.tokens})`);
    if (h.vocabSize !== index.tokenizer.vocabSize) {
      mismatch.push(`vocabulary (${h.vocabSize}, index ${index.tokenizer.vocabSize})`);
    }
    if (mismatch.length > 0) {
      throw new ShardFormatError(
        file,
        `is a valid shard but not the one the dataset index lists (${mismatch.join(', ')} differ): it was replaced after the index was written`,
        'run prepare() again into this folder with the same options: it rewrites the index for the shards on disk',
      );
    }
    bytes +=
      HEADER_BYTES +
      shard.docOffsets.byteLength +
      shard.domainIds.byteLength +
      shard.tokens.byteLength;
    options.onShard?.({ done: i + 1, total: entries.length, bytes });
  }
  return { shards: entries.length, bytes, seconds: (performance.now() - started) / 1000 };
}

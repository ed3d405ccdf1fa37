import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from '../checksum.js';
import { DataError } from '../errors.js';
import type { ShardEntry, Split } from '../shard/dataset-index.js';
import { readShard, readShardHeader, type ShardHeader, writeShard } from '../shard/shard-format.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { ProgressReporter } from './progress.js';
import type { TokenizePool } from './tokenize-pool.js';

/** The documents of one shard: consecutive documents of one (split, domain). */
export interface ShardGroup {
  split: Split;
  domain: string;
  domainId: number;
  index: number;
  texts: string[];
  bytes: number;
}

/** Documents per tokenize task: small enough that progress moves within a large shard. */
const TASK_BYTES = 256 * 1024;
const encoder = new TextEncoder();

/**
 * Turns groups of documents into shard files: keeps a shard whose file already holds the same
 * documents and tokenizer (a resumed run), otherwise tokenizes the documents on the pool and
 * writes the shard. Collects one index entry per shard.
 */
export class ShardWriter {
  readonly shards: ShardEntry[] = [];

  constructor(
    private readonly outDir: string,
    private readonly tokenizer: Tokenizer,
    private readonly tokenBytes: 2 | 4,
    private readonly pool: TokenizePool,
    private readonly progress: ProgressReporter,
  ) {}

  /** Tokenize tasks queued or running (for back-pressure). */
  get pendingTasks(): number {
    return this.pool.pending;
  }

  whenTaskDone(): Promise<void> {
    return this.pool.whenTaskDone();
  }

  /** Writes (or keeps) the shard of `group`; resolves when its entry is in `shards`. */
  write(group: ShardGroup): Promise<void> {
    const { tokenizer, progress } = this;
    const file = `${group.split}-${String(group.domainId).padStart(4, '0')}-${safeName(group.domain)}-${String(group.index).padStart(5, '0')}.bin`;
    const path = join(this.outDir, file);
    const fingerprint = fingerprintOf(tokenizer.name, tokenizer.vocabSize, group.texts);
    const entry = (payloadCrc: number, documents: number, tokens: number): ShardEntry => ({
      file,
      split: group.split,
      domain: group.domain,
      domainId: group.domainId,
      index: group.index,
      documents,
      tokens,
      textBytes: group.bytes,
      payloadCrc,
      fingerprint,
    });
    const finished = finishedShard(path, fingerprint, tokenizer.vocabSize);
    if (finished) {
      this.shards.push(entry(finished.payloadCrc, finished.numDocs, finished.numTokens));
      progress.counts.shardsSkipped++;
      progress.counts.documents += finished.numDocs;
      progress.counts.textBytes += group.bytes;
      progress.counts.tokens += finished.numTokens;
      progress.report('tokenize');
      return Promise.resolve();
    }
    return Promise.all(this.encode(group.texts)).then((parts) => {
      const lengths = concat(parts.map((p) => p.lengths));
      const tokens = concat(parts.map((p) => p.tokens));
      const header = writeShard(path, {
        tokenBytes: this.tokenBytes,
        vocabSize: tokenizer.vocabSize,
        eotId: tokenizer.eotId,
        fingerprint,
        docLengths: lengths,
        domainIds: new Uint16Array(lengths.length).fill(group.domainId),
        tokens,
      });
      progress.counts.shardsWritten++;
      this.shards.push(entry(header.payloadCrc, header.numDocs, header.numTokens));
    });
  }

  /** The documents in tasks of about TASK_BYTES; progress advances as each task finishes. */
  private encode(
    texts: readonly string[],
  ): Promise<{ tokens: Uint32Array; lengths: Uint32Array }>[] {
    const { progress } = this;
    const tasks: Promise<{ tokens: Uint32Array; lengths: Uint32Array }>[] = [];
    for (let i = 0; i < texts.length; ) {
      const batch: string[] = [];
      let bytes = 0;
      while (i < texts.length && (batch.length === 0 || bytes < TASK_BYTES)) {
        bytes += Buffer.byteLength(texts[i], 'utf8');
        batch.push(texts[i++]);
      }
      tasks.push(
        this.pool.encode(batch).then((part) => {
          progress.counts.documents += batch.length;
          progress.counts.textBytes += bytes;
          progress.counts.tokens += part.tokens.length;
          progress.report('tokenize');
          return part;
        }),
      );
    }
    return tasks;
  }
}

/** CRC-32 of the tokenizer identity and the documents' text (length-prefixed). */
function fingerprintOf(tokenizerName: string, vocabSize: number, texts: readonly string[]): number {
  let crc = crc32(encoder.encode(`${tokenizerName}:${vocabSize}`));
  const len = new Uint8Array(4);
  const lenView = new DataView(len.buffer);
  for (const text of texts) {
    const bytes = encoder.encode(text);
    lenView.setUint32(0, bytes.length, true);
    crc = crc32(bytes, crc32(len, crc));
  }
  return crc;
}

/** The header when `path` is a complete, valid shard of exactly these documents and tokenizer. */
function finishedShard(path: string, fingerprint: number, vocabSize: number): ShardHeader | null {
  if (!existsSync(path)) return null;
  try {
    const header = readShardHeader(path);
    if (header.fingerprint !== fingerprint || header.vocabSize !== vocabSize) return null;
    return readShard(path).header; // verifies size and payload checksum
  } catch (error) {
    if (DataError.isInstance(error)) return null; // corrupted: rebuild it
    throw error;
  }
}

function safeName(domain: string): string {
  return domain.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 48) || '_';
}

function concat(parts: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

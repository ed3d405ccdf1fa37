import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../checksum.js';
import { DataError, invalidOption, UnknownDomainError } from '../errors.js';
import {
  type DatasetIndex,
  type DomainStats,
  INDEX_FILE,
  type ShardEntry,
  type Split,
  writeIndex,
} from '../shard/dataset-index.js';
import { readShard, readShardHeader, type ShardHeader, writeShard } from '../shard/shard-format.js';
import { readSources } from '../sources/read-source.js';
import type { SourceSpec } from '../sources/source.js';
import { createTokenizer, type TokenizerSpec, tokenBytesFor } from '../tokenizers/tokenizer.js';
import type { PrepareProgress } from './progress.js';
import {
  type BudgetOptions,
  DomainBudget,
  type ValidationOptions,
  validationMask,
} from './split-plan.js';
import { TokenizePool } from './tokenize-pool.js';

export interface PrepareOptions extends BudgetOptions {
  sources: SourceSpec[];
  /** Output folder (created if needed). */
  outDir: string;
  /** Default 'gpt2'. */
  tokenizer?: TokenizerSpec;
  /** Held-out split per domain; default { fraction: 0.05 }. */
  validation?: ValidationOptions;
  /** Seed of the train/validation split; default 0. */
  seed?: number;
  /** Domain order (domain id = position); default the names sorted. Other domains are an error. */
  domains?: readonly string[];
  /** A shard is closed when its documents reach this many UTF-8 bytes of text; default 32 MiB. */
  shardTextBytes?: number;
  /** Worker threads for tokenization; default min(2, cores); 0 tokenizes on this thread. */
  workers?: number;
  onProgress?: (progress: PrepareProgress) => void;
  /** Minimum milliseconds between progress reports; default 500. */
  progressIntervalMs?: number;
}

export interface PrepareResult {
  dir: string;
  index: DatasetIndex;
  shardsWritten: number;
  shardsSkipped: number;
  seconds: number;
}

interface Group {
  split: Split;
  domain: string;
  domainId: number;
  index: number;
  texts: string[];
  bytes: number;
}

const TASK_BYTES = 256 * 1024;
const encoder = new TextEncoder();

/**
 * Reads the sources, splits each domain into train and validation documents (seeded), tokenizes
 * on worker threads and writes checksummed shards plus an index into `outDir`. Writes are
 * atomic; a shard whose file already holds the same documents and tokenizer is kept, so an
 * interrupted run resumes where it stopped.
 */
export async function prepare(options: PrepareOptions): Promise<PrepareResult> {
  const started = performance.now();
  const seed = options.seed ?? 0;
  const shardTextBytes = options.shardTextBytes ?? 32 * 1024 * 1024;
  if (!(shardTextBytes > 0)) throw invalidOption('shardTextBytes', shardTextBytes, 'a number > 0');
  const workers = options.workers ?? Math.min(2, availableParallelism());
  if (!Number.isInteger(workers) || workers < 0)
    throw invalidOption('workers', workers, 'an integer >= 0');
  if (!Array.isArray(options.sources) || options.sources.length === 0) {
    throw invalidOption('sources', options.sources, 'a non-empty array of sources');
  }
  const tokenizerSpec = options.tokenizer ?? 'gpt2';
  const tokenizer = await createTokenizer(tokenizerSpec);
  const tokenBytes = tokenBytesFor(tokenizer.vocabSize);
  mkdirSync(options.outDir, { recursive: true });
  removeStaleTemporaries(options.outDir);

  // Pass 1: count each domain's documents (after the budget) to draw the validation subset.
  const counts = new Map<string, number>();
  let totalDocuments = 0;
  let totalTextBytes = 0;
  let emptyDocuments = 0;
  const budget1 = new DomainBudget(options);
  const progress = {
    documents: 0,
    textBytes: 0,
    tokens: 0,
    shardsWritten: 0,
    shardsSkipped: 0,
  };
  let lastReport = 0;
  let tokenizeStarted = started; // rates and the ETA count from the start of pass 2
  const report = (phase: PrepareProgress['phase'], force = false): void => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastReport < (options.progressIntervalMs ?? 500)))
      return;
    lastReport = now;
    const seconds = (now - started) / 1000;
    const working = (now - tokenizeStarted) / 1000;
    const rate = progress.textBytes / Math.max(working, 1e-9);
    options.onProgress({
      phase,
      ...progress,
      totalDocuments,
      totalTextBytes,
      elapsedSeconds: seconds,
      tokensPerSecond: progress.tokens / Math.max(working, 1e-9),
      megabytesPerSecond: rate / 1e6,
      etaSeconds:
        progress.textBytes > 0 ? (totalTextBytes - progress.textBytes) / rate : Number.NaN,
    });
  };
  for await (const doc of readSources(options.sources)) {
    if (doc.text === '') continue;
    const bytes = Buffer.byteLength(doc.text, 'utf8');
    if (!budget1.admit(doc.domain, bytes)) continue;
    counts.set(doc.domain, (counts.get(doc.domain) ?? 0) + 1);
    totalDocuments++;
    totalTextBytes += bytes;
    if ((totalDocuments & 1023) === 0) report('scan');
  }
  report('scan', true);
  const domains = options.domains ? [...options.domains] : [...counts.keys()].sort();
  for (const domain of counts.keys()) {
    if (!domains.includes(domain))
      throw new UnknownDomainError(domain, domains, 'the sources (not in options.domains)');
  }
  if (domains.length > 65535)
    throw invalidOption('domains', domains.length, 'at most 65535 domains');
  const masks = new Map<string, Uint8Array>();
  for (const [domain, n] of counts) {
    masks.set(domain, validationMask(n, domain, seed, options.validation ?? {}));
  }

  // Pass 2: group documents into shards per (split, domain) and tokenize them.
  tokenizeStarted = performance.now();
  const pool = new TokenizePool(tokenizerSpec, workers);
  const shards: ShardEntry[] = [];
  const pendingShards: Promise<void>[] = [];

  const flush = (group: Group): Promise<void> => {
    const file = `${group.split}-${String(group.domainId).padStart(4, '0')}-${safeName(group.domain)}-${String(group.index).padStart(5, '0')}.bin`;
    const path = join(options.outDir, file);
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
      shards.push(entry(finished.payloadCrc, finished.numDocs, finished.numTokens));
      progress.shardsSkipped++;
      progress.documents += finished.numDocs;
      progress.textBytes += group.bytes;
      progress.tokens += finished.numTokens;
      report('tokenize');
      return Promise.resolve();
    }
    const tasks: Promise<{ tokens: Uint32Array; lengths: Uint32Array }>[] = [];
    for (let i = 0; i < group.texts.length; ) {
      const texts: string[] = [];
      let bytes = 0;
      while (i < group.texts.length && (texts.length === 0 || bytes < TASK_BYTES)) {
        bytes += Buffer.byteLength(group.texts[i], 'utf8');
        texts.push(group.texts[i++]);
      }
      // Progress advances per task, so the rate and ETA move within a large shard too.
      tasks.push(
        pool.encode(texts).then((part) => {
          progress.documents += texts.length;
          progress.textBytes += bytes;
          progress.tokens += part.tokens.length;
          report('tokenize');
          return part;
        }),
      );
    }
    return Promise.all(tasks).then((parts) => {
      const lengths = concat(parts.map((p) => p.lengths));
      const tokens = concat(parts.map((p) => p.tokens));
      const header = writeShard(path, {
        tokenBytes,
        vocabSize: tokenizer.vocabSize,
        eotId: tokenizer.eotId,
        fingerprint,
        docLengths: lengths,
        domainIds: new Uint16Array(lengths.length).fill(group.domainId),
        tokens,
      });
      progress.shardsWritten++;
      shards.push(entry(header.payloadCrc, header.numDocs, header.numTokens));
    });
  };

  const counters = { skippedLines: 0 };
  try {
    const groups = new Map<string, Group>();
    const seen = new Map<string, number>();
    const budget2 = new DomainBudget(options);
    for await (const doc of readSources(options.sources, counters)) {
      if (doc.text === '') {
        emptyDocuments++;
        continue;
      }
      const bytes = Buffer.byteLength(doc.text, 'utf8');
      if (!budget2.admit(doc.domain, bytes)) continue;
      const i = seen.get(doc.domain) ?? 0;
      seen.set(doc.domain, i + 1);
      const split: Split = (masks.get(doc.domain) as Uint8Array)[i] ? 'validation' : 'train';
      const key = `${split}\u0000${doc.domain}`;
      let group = groups.get(key);
      if (!group) {
        group = {
          split,
          domain: doc.domain,
          domainId: domains.indexOf(doc.domain),
          index: 0,
          texts: [],
          bytes: 0,
        };
        groups.set(key, group);
      }
      group.texts.push(doc.text);
      group.bytes += bytes;
      if (group.bytes >= shardTextBytes) {
        pendingShards.push(settleLater(flush({ ...group })));
        groups.set(key, { ...group, index: group.index + 1, texts: [], bytes: 0 });
        // Back-pressure: hold at most a few tasks per worker in memory.
        while (pool.pending > 4 * Math.max(1, workers)) await pool.whenTaskDone();
      }
    }
    for (const group of groups.values())
      if (group.texts.length > 0) pendingShards.push(settleLater(flush(group)));
    await Promise.all(pendingShards);
  } finally {
    await pool.close();
  }

  const splitOrder = { train: 0, validation: 1 };
  shards.sort(
    (a, b) =>
      splitOrder[a.split] - splitOrder[b.split] || a.domainId - b.domainId || a.index - b.index,
  );
  const stats = {
    train: {} as Record<string, DomainStats>,
    validation: {} as Record<string, DomainStats>,
  };
  for (const s of shards) {
    const d = (stats[s.split][s.domain] ??= { documents: 0, textBytes: 0, tokens: 0 });
    d.documents += s.documents;
    d.textBytes += s.textBytes;
    d.tokens += s.tokens;
  }
  const index: DatasetIndex = {
    format: 'lrw-data',
    version: 1,
    tokenizer: {
      name: tokenizer.name,
      vocabSize: tokenizer.vocabSize,
      eotId: tokenizer.eotId,
      spec: tokenizerSpec,
    },
    tokenBytes,
    domains,
    seed,
    validation: options.validation ?? { fraction: 0.05 },
    shards,
    stats: { ...stats, skippedLines: counters.skippedLines, emptyDocuments },
    createdBy: '@lrw/data',
  };
  writeIndex(join(options.outDir, INDEX_FILE), index);
  report('done', true);
  return {
    dir: options.outDir,
    index,
    shardsWritten: progress.shardsWritten,
    shardsSkipped: progress.shardsSkipped,
    seconds: (performance.now() - started) / 1000,
  };
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

/**
 * Marks a promise as handled now (its failure is still seen by the Promise.all that awaits it
 * later), so a tokenizer error while the sources are still being read is reported as the error
 * of prepare() instead of crashing the process as an unhandled rejection.
 */
function settleLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/^\..+\.tmp-\d+-\d+$/.test(name)) rmSync(join(dir, name), { force: true });
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

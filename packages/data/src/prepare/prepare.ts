import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isTemporaryFile } from '@lrw/atomic-file';
import { invalidOption, UnknownDomainError } from '../errors.js';
import {
  type DatasetIndex,
  type DomainStats,
  INDEX_FILE,
  type ShardEntry,
  type Split,
  writeIndex,
} from '../shard/dataset-index.js';
import { readSources } from '../sources/read-source.js';
import type { SourceSpec } from '../sources/source.js';
import {
  createTokenizer,
  type Tokenizer,
  type TokenizerSpec,
  tokenBytesFor,
} from '../tokenizers/tokenizer.js';
import { claimOutputFolder, emptySourcesError, removeUnlistedShards } from './output-folder.js';
import { type PrepareProgress, ProgressReporter } from './progress.js';
import { type ShardGroup, ShardWriter } from './shard-writer.js';
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
  /**
   * Replace a dataset of another tokenizer in `outDir` (default false: that is an error, since
   * runs trained on it would break). Shards it had that the new index does not list are deleted.
   */
  overwrite?: boolean;
}

export interface PrepareResult {
  dir: string;
  index: DatasetIndex;
  shardsWritten: number;
  shardsSkipped: number;
  seconds: number;
}

/**
 * Reads the sources, splits each domain into train and validation documents (seeded), tokenizes
 * on worker threads and writes checksummed shards plus an index into `outDir`. Writes are
 * atomic; a shard whose file already holds the same documents and tokenizer is kept, so an
 * interrupted run resumes where it stopped.
 */
export async function prepare(options: PrepareOptions): Promise<PrepareResult> {
  const started = performance.now();
  const { seed, shardTextBytes, workers, tokenizerSpec } = checkOptions(options);
  const tokenizer = await createTokenizer(tokenizerSpec);
  mkdirSync(options.outDir, { recursive: true });
  claimOutputFolder(options.outDir, tokenizer, options.overwrite === true);
  removeStaleTemporaries(options.outDir);
  const progress = new ProgressReporter(options.onProgress, options.progressIntervalMs, started);

  // Pass 1: count each domain's documents (after the budget) to draw the validation subset.
  const counts = await countDocuments(options, progress);
  const domains = domainOrder(counts, options.domains);
  const masks = new Map<string, Uint8Array>();
  for (const [domain, n] of counts) {
    masks.set(domain, validationMask(n, domain, seed, options.validation ?? {}));
  }

  // Pass 2: group documents into shards per (split, domain), tokenize and write them.
  progress.startTokenizing();
  const pool = new TokenizePool(tokenizerSpec, workers);
  const writer = new ShardWriter(
    options.outDir,
    tokenizer,
    tokenBytesFor(tokenizer.vocabSize),
    pool,
    progress,
  );
  const counters = { skippedLines: 0, emptyDocuments: 0, invalidUtf8Documents: 0 };
  try {
    await writeShards(options, { domains, masks, shardTextBytes, workers }, writer, counters);
  } finally {
    await pool.close();
  }

  // The index: shards in (split, domain, index) order and per-domain statistics.
  const index = datasetIndex(
    options,
    { tokenizer, tokenizerSpec, domains, seed },
    writer.shards,
    counters,
  );
  writeIndex(join(options.outDir, INDEX_FILE), index);
  if (options.overwrite) removeUnlistedShards(options.outDir, index);
  progress.report('done', true);
  return {
    dir: options.outDir,
    index,
    shardsWritten: progress.counts.shardsWritten,
    shardsSkipped: progress.counts.shardsSkipped,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The options with their defaults, or an error naming the bad one. */
function checkOptions(options: PrepareOptions) {
  const seed = options.seed ?? 0;
  const shardTextBytes = options.shardTextBytes ?? 32 * 1024 * 1024;
  if (!(shardTextBytes > 0)) throw invalidOption('shardTextBytes', shardTextBytes, 'a number > 0');
  const workers = options.workers ?? Math.min(2, availableParallelism());
  if (!Number.isInteger(workers) || workers < 0)
    throw invalidOption('workers', workers, 'an integer >= 0');
  if (!Array.isArray(options.sources) || options.sources.length === 0) {
    throw invalidOption('sources', options.sources, 'a non-empty array of sources');
  }
  return { seed, shardTextBytes, workers, tokenizerSpec: options.tokenizer ?? 'gpt2' };
}

/** Pass 1: the documents of each domain that the budget admits (also the progress totals). */
async function countDocuments(
  options: PrepareOptions,
  progress: ProgressReporter,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const budget = new DomainBudget(options);
  let empty = 0;
  for await (const doc of readSources(options.sources)) {
    if (doc.text === '') {
      empty++;
      continue;
    }
    const bytes = Buffer.byteLength(doc.text, 'utf8');
    if (!budget.admit(doc.domain, bytes)) continue;
    counts.set(doc.domain, (counts.get(doc.domain) ?? 0) + 1);
    progress.totalDocuments++;
    progress.totalTextBytes += bytes;
    if ((progress.totalDocuments & 1023) === 0) progress.report('scan');
  }
  progress.report('scan', true);
  if (progress.totalDocuments === 0) throw emptySourcesError(options.sources, empty);
  return counts;
}

/** Domain ids: `options.domains`' order, or the names sorted; a domain not listed is an error. */
function domainOrder(counts: Map<string, number>, given: readonly string[] | undefined) {
  const domains = given ? [...given] : [...counts.keys()].sort();
  for (const domain of counts.keys()) {
    if (!domains.includes(domain))
      throw new UnknownDomainError(domain, domains, 'the sources (not in options.domains)');
  }
  if (domains.length > 65535)
    throw invalidOption('domains', domains.length, 'at most 65535 domains');
  return domains;
}

/**
 * Pass 2: reads the sources again in the same order, assigns each document its split (the
 * validation mask of its domain), fills one group per (split, domain) and hands a group to the
 * writer when it reaches `shardTextBytes`; the last groups at the end.
 */
async function writeShards(
  options: PrepareOptions,
  plan: {
    domains: string[];
    masks: Map<string, Uint8Array>;
    shardTextBytes: number;
    workers: number;
  },
  writer: ShardWriter,
  counters: { skippedLines: number; emptyDocuments: number; invalidUtf8Documents: number },
): Promise<void> {
  const pending: Promise<void>[] = [];
  const groups = new Map<string, ShardGroup>();
  const seen = new Map<string, number>();
  const budget = new DomainBudget(options);
  for await (const doc of readSources(options.sources, counters)) {
    if (doc.text === '') {
      counters.emptyDocuments++;
      continue;
    }
    const bytes = Buffer.byteLength(doc.text, 'utf8');
    if (!budget.admit(doc.domain, bytes)) continue;
    const i = seen.get(doc.domain) ?? 0;
    seen.set(doc.domain, i + 1);
    const split: Split = (plan.masks.get(doc.domain) as Uint8Array)[i] ? 'validation' : 'train';
    const key = `${split}\u0000${doc.domain}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        split,
        domain: doc.domain,
        domainId: plan.domains.indexOf(doc.domain),
        index: 0,
        texts: [],
        bytes: 0,
      };
      groups.set(key, group);
    }
    group.texts.push(doc.text);
    group.bytes += bytes;
    if (group.bytes >= plan.shardTextBytes) {
      pending.push(settleLater(writer.write({ ...group })));
      groups.set(key, { ...group, index: group.index + 1, texts: [], bytes: 0 });
      // Back-pressure: hold at most a few tasks per worker in memory.
      while (writer.pendingTasks > 4 * Math.max(1, plan.workers)) await writer.whenTaskDone();
    }
  }
  for (const group of groups.values())
    if (group.texts.length > 0) pending.push(settleLater(writer.write(group)));
  await Promise.all(pending);
}

/** The dataset index of the written shards. */
function datasetIndex(
  options: PrepareOptions,
  made: { tokenizer: Tokenizer; tokenizerSpec: TokenizerSpec; domains: string[]; seed: number },
  shards: ShardEntry[],
  counters: { skippedLines: number; emptyDocuments: number; invalidUtf8Documents: number },
): DatasetIndex {
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
  const { tokenizer } = made;
  return {
    format: 'lrw-data',
    version: 1,
    tokenizer: {
      name: tokenizer.name,
      vocabSize: tokenizer.vocabSize,
      eotId: tokenizer.eotId,
      spec: made.tokenizerSpec,
    },
    tokenBytes: tokenBytesFor(tokenizer.vocabSize),
    domains: made.domains,
    seed: made.seed,
    validation: options.validation ?? { fraction: 0.05 },
    shards,
    stats: {
      ...stats,
      skippedLines: counters.skippedLines,
      emptyDocuments: counters.emptyDocuments,
      invalidUtf8Documents: counters.invalidUtf8Documents,
    },
    createdBy: '@lrw/data',
  };
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

/** Temporary files of writes that a crash interrupted (@lrw/atomic-file names them). */
function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (isTemporaryFile(name)) rmSync(join(dir, name), { force: true });
  }
}

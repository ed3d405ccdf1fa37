import { join } from 'node:path';
import { hashSeed, type RngState, Xoshiro128 } from '@lrw/random';
import { crc32 } from '../checksum.js';
import { DataError, invalidOption, UnknownDomainError } from '../errors.js';
import type { DatasetIndex, Split } from '../shard/dataset-index.js';
import { readShard } from '../shard/shard-format.js';
import { type CursorState, DomainCursor } from './domain-cursor.js';
import {
  LoadedShard,
  type Packing,
  SAMPLE_ID_SHARD_FACTOR,
  type SampleLayout,
  sampleCountFromIndex,
} from './shard-samples.js';

/** What to do when a domain has no samples left in its epoch. */
export type ExhaustionPolicy = 'cycle' | 'stop' | 'renormalise';

export interface StreamOptions {
  batchSize: number;
  /** T: tokens per row. */
  seqLen: number;
  /** Default 'train'. */
  split?: Split;
  /** Default 'concat'. */
  packing?: Packing;
  /** Default 'split' (document packing: long documents give several rows). */
  longDocuments?: 'split' | 'truncate';
  /** Default 0. */
  seed?: number;
  /** Shuffle shards and samples (default true); false reads everything in stored order. */
  shuffle?: boolean;
  /**
   * Probability of drawing each row from each domain: weights by name (normalised; a domain
   * left out gets 0), 'natural' (proportional to the split's tokens, the default) or 'uniform'.
   */
  mixture?: Record<string, number> | 'natural' | 'uniform';
  /**
   * Per-domain policy at the end of a domain's epoch (one for all, or by name): 'cycle' starts
   * a new epoch in a new order, 'stop' ends the stream, 'renormalise' drops the domain and
   * spreads its weight over the others (the stream ends when no domain is left). Default
   * 'cycle' for the train split and 'renormalise' for validation (one pass over everything).
   */
  exhaustion?: ExhaustionPolicy | Record<string, ExhaustionPolicy>;
  /** Batches prepared ahead on a worker thread; default 4; 0 builds batches on this thread. */
  prefetch?: number;
  /**
   * Data parallelism: every rank draws the same global batch of batchSize * worldSize rows and
   * gets rows [rank * batchSize, (rank + 1) * batchSize); states are equal on every rank.
   * Default rank 0 of 1.
   */
  worldSize?: number;
  rank?: number;
}

/**
 * A batch of B rows of T tokens. Rows past `rows` (only in the last batch of a finite stream)
 * are padding: mask 0, domain id -1, sample id -1.
 */
export interface Batch {
  /** (B, T) input ids. */
  tokens: Int32Array;
  /** (B, T) next-token ids. */
  targets: Int32Array;
  /** (B, T) 1 where the target counts, 0 on padding. */
  mask: Float32Array;
  /** (B) domain id of each row (index into the dataset's domains). */
  domainIds: Int32Array;
  /** (B) stable sample id: shard ordinal * 2^32 + sample index in the shard. */
  sampleIds: Float64Array;
  batchSize: number;
  seqLen: number;
  /** Rows that hold data (0 on a rank whose slice lies past the end of a finite stream). */
  rows: number;
  /** 0-based index of this batch in the stream. */
  step: number;
}

/** Everything needed to continue a stream exactly; plain JSON. */
export interface StreamState {
  format: 'lrw-stream';
  version: 1;
  config: StreamConfig;
  step: number;
  ended: boolean;
  rng: RngState;
  weights: number[];
  active: number[];
  cursors: CursorState[];
}

interface StreamConfig {
  dataset: string;
  split: Split;
  packing: Packing;
  seqLen: number;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  longDocuments: 'split' | 'truncate';
  worldSize: number;
}

/** Identity of a dataset's content: CRC-32 of its shard names and checksums. */
export function datasetId(index: DatasetIndex): string {
  const text = index.shards.map((s) => `${s.file}:${s.payloadCrc}`).join('\n');
  return crc32(new TextEncoder().encode(text)).toString(16).padStart(8, '0');
}

/** Builds batches synchronously; the same code runs on the caller's thread or in the prefetch worker. */
export class BatchBuilder {
  readonly config: StreamConfig;
  private readonly layout: SampleLayout;
  private readonly cursors: DomainCursor[];
  private readonly policies: ExhaustionPolicy[];
  private readonly hasShards: boolean[];
  private weightsArr: Float64Array;
  private active: Uint8Array;
  private rng: Xoshiro128;
  private step = 0;
  private ended = false;
  private readonly rank: number;

  constructor(
    private readonly index: DatasetIndex,
    dir: string,
    options: StreamOptions,
  ) {
    const B = options.batchSize;
    const T = options.seqLen;
    if (!Number.isInteger(B) || B < 1) throw invalidOption('batchSize', B, 'an integer >= 1');
    if (!Number.isInteger(T) || T < 1) throw invalidOption('seqLen', T, 'an integer >= 1');
    const split = options.split ?? 'train';
    if (split !== 'train' && split !== 'validation')
      throw invalidOption('split', split, "'train' or 'validation'");
    const packing = options.packing ?? 'concat';
    if (packing !== 'concat' && packing !== 'document')
      throw invalidOption('packing', packing, "'concat' or 'document'");
    const longDocuments = options.longDocuments ?? 'split';
    const worldSize = options.worldSize ?? 1;
    const rank = options.rank ?? 0;
    if (!Number.isInteger(worldSize) || worldSize < 1)
      throw invalidOption('worldSize', worldSize, 'an integer >= 1');
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
      throw invalidOption('rank', rank, `an integer in [0, worldSize - 1 = ${worldSize - 1}]`);
    }
    this.rank = rank;
    this.config = {
      dataset: datasetId(index),
      split,
      packing,
      seqLen: T,
      batchSize: B,
      seed: options.seed ?? 0,
      worldSize: options.worldSize ?? 1,
      shuffle: options.shuffle ?? true,
      longDocuments,
    };
    this.layout = { packing, seqLen: T, longDocuments, eotId: index.tokenizer.eotId };
    const domains = index.domains;
    const byDomain: number[][] = domains.map(() => []);
    index.shards.forEach((s, ordinal) => {
      if (s.split === split) byDomain[s.domainId].push(ordinal);
    });
    this.hasShards = byDomain.map((list) => list.length > 0);
    const load = (ordinal: number): LoadedShard =>
      new LoadedShard(ordinal, readShard(join(dir, index.shards[ordinal].file)), this.layout);
    this.cursors = byDomain.map(
      (list, d) => new DomainCursor(d, list, this.config.seed, this.config.shuffle, load),
    );
    this.policies = this.resolvePolicies(
      options.exhaustion ?? (split === 'train' ? 'cycle' : 'renormalise'),
    );
    this.weightsArr = this.resolveWeights(options.mixture ?? 'natural');
    this.active = new Uint8Array(domains.length).fill(1);
    this.rng = new Xoshiro128(hashSeed(this.config.seed, 'mixture'));
  }

  /** The next batch, or null when the stream has ended. */
  next(): Batch | null {
    if (this.ended) return null;
    const { batchSize: B, seqLen: T, worldSize } = this.config;
    const eot = this.layout.eotId;
    const batch: Batch = {
      tokens: new Int32Array(B * T),
      targets: new Int32Array(B * T),
      mask: new Float32Array(B * T),
      domainIds: new Int32Array(B).fill(-1),
      sampleIds: new Float64Array(B).fill(-1),
      batchSize: B,
      seqLen: T,
      rows: 0,
      step: this.step,
    };
    // Every rank draws the same global batch of B * worldSize rows (so the state is the same on
    // every rank) and fills only its own slice: rows [rank * B, (rank + 1) * B).
    const first = this.rank * B;
    let g = 0;
    draw: for (; g < B * worldSize; g++) {
      let d = this.pickDomain();
      if (d < 0) break;
      let sample = this.cursors[d].next();
      while (sample === null) {
        const policy = this.policies[d];
        if (policy === 'stop') break draw;
        if (policy === 'cycle') {
          this.cursors[d].nextEpoch();
          sample = this.cursors[d].next();
          if (sample === null) throw this.noSamples(d);
        } else {
          this.active[d] = 0;
          d = this.pickDomain();
          if (d < 0) break draw;
          sample = this.cursors[d].next();
        }
      }
      const r = g - first;
      if (r < 0 || r >= B) continue;
      sample.shard.fillRow(sample.local, r, batch.tokens, batch.targets, batch.mask);
      batch.domainIds[r] = d;
      batch.sampleIds[r] = sample.shard.ordinal * SAMPLE_ID_SHARD_FACTOR + sample.local;
    }
    if (g === 0) {
      this.ended = true;
      return null;
    }
    const rows = Math.max(0, Math.min(B, g - first));
    if (g < B * worldSize) {
      this.ended = true;
      batch.tokens.fill(eot, rows * T);
      batch.targets.fill(eot, rows * T);
    }
    batch.rows = rows;
    this.step++;
    return batch;
  }

  /** Sets the mixture weights for the rows drawn from now on (e.g. online domain reweighting). */
  setWeights(weights: Record<string, number>): void {
    this.weightsArr = this.resolveWeights(weights);
  }

  /** Current normalised weights by domain name (domains without data in this split get 0). */
  weights(): Record<string, number> {
    let total = 0;
    for (let d = 0; d < this.weightsArr.length; d++) total += this.weightsArr[d];
    return Object.fromEntries(
      this.index.domains.map((name, d) => [name, this.weightsArr[d] / total]),
    );
  }

  state(): StreamState {
    return {
      format: 'lrw-stream',
      version: 1,
      config: { ...this.config },
      step: this.step,
      ended: this.ended,
      rng: this.rng.state(),
      weights: Array.from(this.weightsArr),
      active: Array.from(this.active),
      cursors: this.cursors.map((c) => c.state()),
    };
  }

  load(state: StreamState): void {
    if (state?.format !== 'lrw-stream' || state.version !== 1) {
      throw new DataError(
        'STATE_MISMATCH',
        'not a stream state of @lrw/data (format lrw-stream, version 1)',
      );
    }
    // The global batch (batchSize x worldSize rows) decides what is drawn; how it is split
    // among ranks does not, so a state loads into any world size with the same global batch.
    const split = new Set<keyof StreamConfig>(['batchSize', 'worldSize']);
    const global = (c: StreamConfig) => c.batchSize * (c.worldSize ?? 1);
    if (global(state.config) !== global(this.config)) {
      throw new DataError(
        'STATE_MISMATCH',
        `stream state was saved with a global batch of ${global(state.config)} rows (batchSize ${state.config.batchSize} x worldSize ${state.config.worldSize}), but this stream draws ${global(this.config)} (batchSize ${this.config.batchSize} x worldSize ${this.config.worldSize})`,
        {
          hint: 'open the stream with batchSize x worldSize equal to the saved one (e.g. batchSize 4 on 2 ranks for a state of batchSize 8 on 1)',
        },
      );
    }
    for (const key of Object.keys(this.config) as (keyof StreamConfig)[]) {
      if (split.has(key)) continue;
      if (state.config[key] !== this.config[key]) {
        throw new DataError(
          'STATE_MISMATCH',
          `stream state was saved with ${key} = ${JSON.stringify(state.config[key])}, but this stream has ${key} = ${JSON.stringify(this.config[key])}`,
          {
            hint: 'open the stream on the same dataset with the same split, packing, seqLen, seed, shuffle and longDocuments as when the state was saved',
          },
        );
      }
    }
    this.step = state.step;
    this.ended = state.ended;
    this.rng.load(state.rng);
    this.weightsArr = Float64Array.from(state.weights);
    this.active = Uint8Array.from(state.active);
    for (let d = 0; d < this.cursors.length; d++) this.cursors[d].seek(state.cursors[d]);
  }

  private pickDomain(): number {
    let total = 0;
    const w = this.weightsArr;
    for (let d = 0; d < w.length; d++) if (this.active[d]) total += w[d];
    if (!(total > 0)) return -1;
    const u = this.rng.nextFloat() * total;
    let acc = 0;
    let last = -1;
    for (let d = 0; d < w.length; d++) {
      if (!this.active[d] || w[d] <= 0) continue;
      acc += w[d];
      last = d;
      if (u < acc) return d;
    }
    return last;
  }

  private resolveWeights(mixture: Record<string, number> | 'natural' | 'uniform'): Float64Array {
    const domains = this.index.domains;
    const w = new Float64Array(domains.length);
    if (mixture === 'natural' || mixture === 'uniform') {
      const stats = this.index.stats[this.config.split];
      domains.forEach((name, d) => {
        if (this.hasShards[d]) w[d] = mixture === 'uniform' ? 1 : (stats[name]?.tokens ?? 0);
      });
    } else if (typeof mixture === 'object' && mixture !== null) {
      for (const [name, value] of Object.entries(mixture)) {
        const d = domains.indexOf(name);
        if (d < 0) throw new UnknownDomainError(name, domains);
        if (!(Number.isFinite(value) && value >= 0))
          throw invalidOption(`mixture.${name}`, value, 'a finite number >= 0');
        if (value > 0 && !this.hasShards[d]) {
          throw new DataError(
            'INVALID_OPTION',
            `domain "${name}" has no ${this.config.split} documents, so it cannot have weight ${value}`,
            {
              hint: 'give it weight 0, or prepare the dataset with documents of that domain in this split',
            },
          );
        }
        w[d] = value;
      }
    } else {
      throw invalidOption('mixture', mixture, "weights by domain name, 'natural' or 'uniform'");
    }
    if (!(w.reduce((a, b) => a + b, 0) > 0))
      throw invalidOption('mixture', mixture, 'at least one positive weight');
    for (let d = 0; d < w.length; d++) {
      if (w[d] > 0 && this.totalSamples(d) === 0) throw this.noSamples(d);
    }
    return w;
  }

  private totalSamples(d: number): number | null {
    let total = 0;
    for (const s of this.index.shards) {
      if (s.split !== this.config.split || s.domainId !== d) continue;
      const n = sampleCountFromIndex(s, this.layout);
      if (n === null) return null;
      total += n;
    }
    return total;
  }

  private noSamples(d: number): DataError {
    return new DataError(
      'INVALID_OPTION',
      `domain "${this.index.domains[d]}" has no ${this.config.packing} samples of ${this.config.seqLen + 1} tokens in the ${this.config.split} split`,
      {
        hint: "lower seqLen, use packing 'document', give the domain weight 0, or prepare more of its text",
      },
    );
  }

  private resolvePolicies(
    exhaustion: ExhaustionPolicy | Record<string, ExhaustionPolicy>,
  ): ExhaustionPolicy[] {
    const valid = ['cycle', 'stop', 'renormalise'];
    const domains = this.index.domains;
    if (typeof exhaustion === 'string') {
      if (!valid.includes(exhaustion))
        throw invalidOption('exhaustion', exhaustion, "'cycle', 'stop' or 'renormalise'");
      return domains.map(() => exhaustion);
    }
    const fallback = this.config.split === 'train' ? 'cycle' : 'renormalise';
    const out: ExhaustionPolicy[] = domains.map(() => fallback);
    for (const [name, policy] of Object.entries(exhaustion ?? {})) {
      const d = domains.indexOf(name);
      if (d < 0) throw new UnknownDomainError(name, domains, 'exhaustion');
      if (!valid.includes(policy))
        throw invalidOption(`exhaustion.${name}`, policy, "'cycle', 'stop' or 'renormalise'");
      out[d] = policy;
    }
    return out;
  }
}

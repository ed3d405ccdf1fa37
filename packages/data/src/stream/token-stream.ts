import { Worker } from 'node:worker_threads';
import { DataError, type DataErrorCode, invalidOption } from '../errors.js';
import type { DatasetIndex } from '../shard/dataset-index.js';
import { workerUrl } from '../worker-url.js';
import { type Batch, BatchBuilder, type StreamOptions, type StreamState } from './batch-builder.js';

interface WorkerMessage {
  generation: number;
  batch?: Batch | null;
  state?: StreamState;
  error?: { message: string; code?: string };
}

interface Delivery {
  batch: Batch | null;
  state: StreamState;
}

/** Timing of a stream, to check that the trainer never waits for data. */
export interface StreamStats {
  batches: number;
  /** Milliseconds next() spent waiting for the prefetch worker, in all. */
  waitMs: number;
  /** The longest single wait. */
  maxWaitMs: number;
}

/**
 * A deterministic, resumable stream of batches. With `prefetch` > 0 (default 4) batches are
 * built on a worker thread that stays that many batches ahead; with 0 they are built on the
 * caller's thread. Both give exactly the same batches.
 */
export class TokenStream implements AsyncIterable<Batch> {
  /** Domain names; batch.domainIds index into this list. */
  readonly domains: readonly string[];
  private readonly builder: BatchBuilder;
  private readonly prefetch: number;
  private worker: Worker | null = null;
  private generation = 0;
  private queue: Delivery[] = [];
  private waiting: { resolve: (d: Delivery) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private delivered: StreamState;
  private closed = false;
  private finished = false;
  private readonly timing: StreamStats = { batches: 0, waitMs: 0, maxWaitMs: 0 };

  constructor(
    private readonly index: DatasetIndex,
    private readonly dir: string,
    private readonly options: StreamOptions,
  ) {
    this.domains = index.domains;
    // Built here even with a worker: it validates the options on the caller's thread and
    // tracks weights and states.
    this.builder = new BatchBuilder(index, dir, options);
    this.prefetch = options.prefetch ?? 4;
    if (!Number.isInteger(this.prefetch) || this.prefetch < 0) {
      throw invalidOption('prefetch', options.prefetch, 'an integer >= 0');
    }
    this.delivered = this.builder.state();
  }

  /** The next batch, or null at the end of a finite stream. */
  async next(): Promise<Batch | null> {
    if (this.closed) throw new DataError('INVALID_OPTION', 'next() on a closed TokenStream');
    if (this.prefetch === 0) {
      const batch = this.builder.next();
      this.delivered = this.builder.state();
      if (batch) this.timing.batches++;
      return batch;
    }
    if (this.finished) return null;
    this.startWorker();
    let delivery = this.queue.shift();
    if (!delivery) {
      if (this.failure) throw this.failure;
      const started = performance.now();
      // The idle worker is unref'd so it never keeps the process alive; while a caller waits on
      // it, it must.
      this.worker?.ref();
      try {
        delivery = await new Promise<Delivery>((resolve, reject) => {
          this.waiting = { resolve, reject };
        });
      } finally {
        this.worker?.unref();
      }
      const waited = performance.now() - started;
      this.timing.waitMs += waited;
      this.timing.maxWaitMs = Math.max(this.timing.maxWaitMs, waited);
    }
    this.delivered = delivery.state;
    if (delivery.batch === null) this.finished = true; // the worker builds nothing more until a reset
    if (delivery.batch) {
      this.timing.batches++;
      this.worker?.postMessage({ type: 'credit' });
    }
    return delivery.batch;
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return {
      next: async () => {
        const batch = await this.next();
        return batch ? { value: batch, done: false } : { value: undefined, done: true };
      },
    };
  }

  /** The state after the last batch returned by next(): load it to continue from there. */
  state(): StreamState {
    return structuredClone(this.delivered);
  }

  /** Continues from a saved state; the next batch is the one that followed it. */
  load(state: StreamState): void {
    this.builder.load(state);
    this.delivered = this.builder.state();
    this.restart();
  }

  /**
   * Sets the domain mixture for every batch after the last one returned (batches already
   * prefetched are rebuilt), e.g. for DoReMi / DoGE style online domain reweighting.
   */
  setWeights(weights: Record<string, number>): void {
    this.builder.load(this.delivered);
    this.builder.setWeights(weights);
    this.delivered = this.builder.state();
    this.restart();
  }

  /** Current normalised mixture weights by domain name. */
  weights(): Record<string, number> {
    this.builder.load(this.delivered);
    return this.builder.weights();
  }

  stats(): StreamStats {
    return { ...this.timing };
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private restart(): void {
    this.finished = false;
    this.generation++;
    this.queue = [];
    this.failure = null;
    this.worker?.postMessage({
      type: 'reset',
      generation: this.generation,
      state: this.delivered,
      credits: this.prefetch,
    });
  }

  private startWorker(): void {
    if (this.worker || this.prefetch === 0) return;
    const worker = new Worker(workerUrl('./stream-worker', import.meta.url), {
      workerData: {
        index: this.index,
        dir: this.dir,
        options: this.options,
        state: this.delivered,
        credits: this.prefetch,
        generation: this.generation,
      },
    });
    // An idle prefetch worker must not keep the process alive.
    worker.unref();
    worker.on('message', (m: WorkerMessage) => {
      if (m.generation !== this.generation) return; // built before a load() or setWeights()
      if (m.error)
        this.deliverError(
          new DataError((m.error.code as DataErrorCode) ?? 'INVALID_OPTION', m.error.message),
        );
      else this.deliver({ batch: m.batch ?? null, state: m.state as StreamState });
    });
    worker.on('error', (error) => this.deliverError(error));
    this.worker = worker;
  }

  private deliver(delivery: Delivery): void {
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(delivery);
    } else this.queue.push(delivery);
  }

  private deliverError(error: Error): void {
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(error);
    } else this.failure = error;
  }
}

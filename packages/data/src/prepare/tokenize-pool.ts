import { Worker } from 'node:worker_threads';
import { createTokenizer, type Tokenizer, type TokenizerSpec } from '../tokenizers/tokenizer.js';
import { workerUrl } from '../worker-url.js';
import { type EncodedBatch, encodeBatch } from './encode-batch.js';

interface Task {
  id: number;
  texts: string[];
  resolve: (batch: EncodedBatch) => void;
  reject: (error: Error) => void;
}

/**
 * Tokenizes batches of documents on worker threads (or on this thread when size is 0). Each
 * worker holds at most two tasks, so it never idles between messages while the queue has work.
 */
export class TokenizePool {
  private readonly workers: Worker[] = [];
  private readonly busy: Task[][] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private local: Promise<Tokenizer> | null = null;
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    spec: TokenizerSpec,
    readonly size: number,
  ) {
    if (size === 0) {
      this.local = createTokenizer(spec);
      return;
    }
    const url = workerUrl('./tokenize-worker', import.meta.url);
    for (let w = 0; w < size; w++) {
      const worker = new Worker(url, { workerData: { spec } });
      this.busy.push([]);
      worker.on(
        'message',
        (m: { id: number; tokens?: Uint32Array; lengths?: Uint32Array; error?: string }) => {
          const tasks = this.busy[w];
          const i = tasks.findIndex((t) => t.id === m.id);
          const [task] = tasks.splice(i, 1);
          if (m.error !== undefined) task.reject(new Error(`tokenizer worker: ${m.error}`));
          else task.resolve({ tokens: m.tokens as Uint32Array, lengths: m.lengths as Uint32Array });
          this.pump();
          this.notify();
        },
      );
      worker.on('error', (error) => this.fail(error));
      this.workers.push(worker);
    }
  }

  /** Tasks queued or running. */
  get pending(): number {
    return this.queue.length + this.busy.reduce((n, tasks) => n + tasks.length, 0);
  }

  encode(texts: string[]): Promise<EncodedBatch> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.local) {
      const local = this.local;
      return local.then((tokenizer) => encodeBatch(tokenizer, texts));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, texts, resolve, reject });
      this.pump();
    });
  }

  /** Resolves when a task has finished (for back-pressure), at once when nothing is pending. */
  whenTaskDone(): Promise<void> {
    if (this.pending === 0 || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private pump(): void {
    for (let round = 0; round < 2 && this.queue.length > 0; round++) {
      for (let w = 0; w < this.workers.length && this.queue.length > 0; w++) {
        if (this.busy[w].length > round) continue;
        const task = this.queue.shift() as Task;
        this.busy[w].push(task);
        this.workers[w].postMessage({ id: task.id, texts: task.texts });
      }
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const task of [...this.queue, ...this.busy.flat()]) task.reject(error);
    this.queue.length = 0;
    for (const tasks of this.busy) tasks.length = 0;
    this.notify();
  }
}

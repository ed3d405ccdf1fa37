// worker_threads pool running the shared-memory gemm kernel on row ranges of one call.
//
// Each worker instantiates the same compiled module on the same shared WebAssembly.Memory and
// sleeps in Atomics.wait on its own slot of a small control SharedArrayBuffer. A dispatch writes
// the arguments into the slots, bumps each slot's generation and notifies; the calling thread
// computes its own share, then Atomics.waits until every worker has bumped the done counter.
// A round trip costs ~45 µs here (docs TENSOR.md), so callers split only large products.
import { Worker } from 'node:worker_threads';
import type { WasmMemory, WasmModule } from './wasm-api.js';

/** Int32 words per worker slot: [generation, op, 14 gemm arguments, status]. */
const SLOT = 17;
const OP_GEMM = 1;
const OP_STOP = 2;
const ARGS = 2;
const STATUS = 16;
/** Word 0 of the control block counts finished jobs; slots start at word 1. */
const DONE = 0;

// The worker body is an ES module in a data: URL, so the pool runs unchanged from TypeScript
// sources (tests) and from dist/ without resolving a separate worker file, and does not depend
// on how the parent was started (an eval'd CommonJS string breaks under --input-type=module).
const WORKER_SOURCE = `
import { workerData, parentPort } from 'node:worker_threads';
const { module, memory, control, slot } = workerData;
const ctl = new Int32Array(control);
const base = 1 + slot * ${SLOT};
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctl, base, seen);
  const gen = Atomics.load(ctl, base);
  if (gen === seen) continue;
  seen = gen;
  if (ctl[base + 1] === ${OP_STOP}) break;
  let status = 0;
  try {
    const a = base + ${ARGS};
    gemm(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6],
      ctl[a + 7], ctl[a + 8], ctl[a + 9], ctl[a + 10], ctl[a + 11], ctl[a + 12], ctl[a + 13]);
  } catch (e) {
    status = 1;
  }
  Atomics.store(ctl, base + ${STATUS}, status);
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

const WORKER_URL = new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`);

/** gemm arguments without the row range and scratch pointer (see assembly/gemm.ts). */
export type GemmCall = readonly [
  a: number,
  b: number,
  c: number,
  m: number,
  n: number,
  k: number,
  flags: number,
  batch: number,
  strideA: number,
  strideB: number,
  strideC: number,
];

/** Workers that each run `gemm` on a row range of a call made from the owning thread. */
export class GemmWorkerPool {
  private readonly workers: Worker[];
  private readonly ctl: Int32Array;
  private readonly exited: Promise<unknown>[];
  private closed = false;

  private constructor(workers: Worker[], ctl: Int32Array) {
    this.workers = workers;
    this.ctl = ctl;
    this.exited = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
  }

  /** Starts `size` workers on `module` (a shared-memory kernel variant) and `memory`. */
  static async create(
    module: WasmModule,
    memory: WasmMemory,
    size: number,
  ): Promise<GemmWorkerPool> {
    if (!(Number.isInteger(size) && size >= 1)) {
      throw new RangeError(`worker pool size ${size} must be an integer >= 1`);
    }
    const ctl = new Int32Array(new SharedArrayBuffer((1 + size * SLOT) * 4));
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let slot = 0; slot < size; slot++) {
      const worker = new Worker(WORKER_URL, {
        workerData: { module, memory, control: ctl.buffer, slot },
      });
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
          worker.once('exit', (code) =>
            reject(new Error(`gemm worker ${slot} exited with code ${code} during start-up`)),
          );
        }),
      );
      workers.push(worker);
    }
    const pool = new GemmWorkerPool(workers, ctl);
    try {
      await Promise.all(ready);
    } catch (error) {
      await pool.close();
      throw error;
    }
    // Idle workers must not keep the process alive (a forgotten pool would hang exit), but they
    // stay referenced while start-up and close() await their messages and exit events.
    for (const worker of workers) worker.unref();
    return pool;
  }

  /** Number of worker threads (the calling thread works too). */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Runs `call` on workers 0..jobs.length-1 with the given [row0, row1, scratch] and returns
   * without waiting: the caller does its own share, then calls `wait(jobs.length)`.
   */
  start(call: GemmCall, jobs: readonly (readonly [number, number, number])[]): void {
    if (this.closed) throw new Error('GemmWorkerPool is closed');
    if (jobs.length > this.workers.length) {
      throw new RangeError(`${jobs.length} jobs for a pool of ${this.workers.length} workers`);
    }
    const ctl = this.ctl;
    Atomics.store(ctl, DONE, 0);
    for (let w = 0; w < jobs.length; w++) {
      const base = 1 + w * SLOT;
      const job = jobs[w]!;
      ctl[base + 1] = OP_GEMM;
      for (let i = 0; i < call.length; i++) ctl[base + ARGS + i] = call[i]!;
      ctl[base + ARGS + 11] = job[0];
      ctl[base + ARGS + 12] = job[1];
      ctl[base + ARGS + 13] = job[2];
      ctl[base + STATUS] = 0;
      // Atomics.add publishes the plain writes above before the worker observes the generation.
      Atomics.add(ctl, base, 1);
      Atomics.notify(ctl, base, 1);
    }
  }

  /** Blocks until `jobs` workers have finished the current dispatch; throws if one failed. */
  wait(jobs: number): void {
    const ctl = this.ctl;
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= jobs) break;
      Atomics.wait(ctl, DONE, done);
    }
    for (let w = 0; w < jobs; w++) {
      if (Atomics.load(ctl, 1 + w * SLOT + STATUS) !== 0) {
        throw new Error(`gemm worker ${w} trapped (out-of-bounds pointer or size in the call)`);
      }
    }
  }

  /** Stops every worker and resolves once all have exited. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const worker of this.workers) worker.ref();
      for (let w = 0; w < this.workers.length; w++) {
        const base = 1 + w * SLOT;
        this.ctl[base + 1] = OP_STOP;
        Atomics.add(this.ctl, base, 1);
        Atomics.notify(this.ctl, base, 1);
      }
    }
    await Promise.all(this.exited);
  }
}

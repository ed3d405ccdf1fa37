// worker_threads pool running the shared-memory gemm kernel on tiles of one call.
//
// Each worker instantiates the same compiled module on the same shared WebAssembly.Memory and
// sleeps in Atomics.wait on its own generation word of a small control SharedArrayBuffer. A
// dispatch writes the call into the control block, bumps every generation and notifies; then the
// calling thread and the workers claim fixed chunks (a grid of row x column tiles of the output)
// from one atomic counter until none are left (dynamic, so a worker descheduled on a busy
// machine delays at most one chunk instead of half the product). Each worker bumps the done counter after its last claim, and the caller
// Atomics.waits for all of them, so no worker can still be reading a call when the next is
// written. Chunk boundaries do not change any result: every output element is accumulated in
// the same order whichever thread computes it.
// A round trip costs ~45 µs here (docs TENSOR.md), so callers split only large products.
import type { Worker } from 'node:worker_threads';
import { platform } from '../platform/node.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';

// Control block layout (Int32 words).
const DONE = 0; // workers finished with the current call
const NEXT = 1; // next chunk to claim
const CHUNKS = 2; // chunks in the current call
const CHUNK_ROWS = 3; // rows per chunk
const ROWS = 4; // rows of the flattened [batch*M] output
const OP = 5; // 1 = gemm, 2 = stop
const ERROR = 6; // set to 1 when a gemm call trapped
const CHUNK_COLS = 7; // columns per chunk
const COLS = 8; // columns of the output (N)
const COL_CHUNKS = 9; // chunks per row band
const ARGS = 10; // 11 gemm arguments (GemmCall)
const WORKERS = ARGS + 11; // per worker: [generation, scratch pointer]
const OP_GEMM = 1;
const OP_STOP = 2;

// The worker body is an ES module in a data: URL, so the pool runs unchanged from TypeScript
// sources (tests) and from dist/ without resolving a separate worker file, and does not depend
// on how the parent was started (an eval'd CommonJS string breaks under --input-type=module).
const WORKER_SOURCE = `
import { workerData, parentPort } from 'node:worker_threads';
const { module, memory, control, slot, ready } = workerData;
const ctl = new Int32Array(control);
const gen = ${WORKERS} + 2 * slot;
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
if (ready) {
  const r = new Int32Array(ready);
  Atomics.add(r, 0, 1);
  Atomics.notify(r, 0);
} else parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctl, gen, seen);
  const now = Atomics.load(ctl, gen);
  if (now === seen) continue;
  seen = now;
  if (Atomics.load(ctl, ${OP}) === ${OP_STOP}) break;
  const a = ${ARGS};
  const chunks = ctl[${CHUNKS}], size = ctl[${CHUNK_ROWS}], rows = ctl[${ROWS}];
  const width = ctl[${CHUNK_COLS}], cols = ctl[${COLS}], perBand = ctl[${COL_CHUNKS}];
  const scratch = ctl[gen + 1];
  for (;;) {
    const chunk = Atomics.add(ctl, ${NEXT}, 1);
    if (chunk >= chunks) break;
    const r0 = Math.floor(chunk / perBand) * size;
    const c0 = (chunk % perBand) * width;
    try {
      gemm(ctl[a], ctl[a + 1], ctl[a + 2], ctl[a + 3], ctl[a + 4], ctl[a + 5], ctl[a + 6],
        ctl[a + 7], ctl[a + 8], ctl[a + 9], ctl[a + 10], r0, Math.min(rows, r0 + size),
        c0, Math.min(cols, c0 + width), scratch);
    } catch (e) {
      Atomics.store(ctl, ${ERROR}, 1);
    }
  }
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

/** The calling thread's gemm over rows [row0, row1) and columns [col0, col1). */
export type LocalGemm = (
  call: GemmCall,
  row0: number,
  row1: number,
  col0: number,
  col1: number,
) => void;

/** How one call is cut into chunks: a grid of chunkRows x chunkCols output tiles. */
export interface GemmPlan {
  /** Rows of the flattened [batch*M] output. */
  rows: number;
  /** Columns of the output (N). */
  cols: number;
  chunkRows: number;
  chunkCols: number;
}

/** Workers that share the rows of gemm calls made from the owning thread. */
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

  /**
   * Starts one worker per entry of `scratch` (byte offsets of each worker's gemm scratch block)
   * on `module` (a shared-memory kernel variant) and `memory`.
   */
  static async create(
    module: WasmModule,
    memory: WasmMemory,
    scratch: readonly number[],
  ): Promise<GemmWorkerPool> {
    if (scratch.length < 1) throw new RangeError('a worker pool needs at least one worker');
    const ctl = new Int32Array(new SharedArrayBuffer((WORKERS + 2 * scratch.length) * 4));
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let slot = 0; slot < scratch.length; slot++) {
      ctl[WORKERS + 2 * slot + 1] = scratch[slot]!;
      const worker = platform.createWorker(WORKER_URL, {
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

  /**
   * `create` for callers that cannot await (a backend created inside a synchronous kernel call):
   * starts the workers and blocks in `Atomics.wait` until each has instantiated the module (tens
   * of ms; workers boot on their own threads, without the caller's event loop). Returns
   * undefined, after stopping them, if they are not all up within `timeoutMs`.
   */
  static createSync(
    module: WasmModule,
    memory: WasmMemory,
    scratch: readonly number[],
    timeoutMs = 5000,
  ): GemmWorkerPool | undefined {
    if (scratch.length < 1) throw new RangeError('a worker pool needs at least one worker');
    const ctl = new Int32Array(new SharedArrayBuffer((WORKERS + 2 * scratch.length) * 4));
    const ready = new Int32Array(new SharedArrayBuffer(4));
    const workers: Worker[] = [];
    for (let slot = 0; slot < scratch.length; slot++) {
      ctl[WORKERS + 2 * slot + 1] = scratch[slot]!;
      const worker = platform.createWorker(WORKER_URL, {
        workerData: { module, memory, control: ctl.buffer, slot, ready: ready.buffer },
      });
      // Start-up errors surface as the timeout below; keep them from crashing the process.
      worker.on('error', () => {});
      worker.unref();
      workers.push(worker);
    }
    const pool = new GemmWorkerPool(workers, ctl);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const up = Atomics.load(ready, 0);
      if (up >= workers.length) return pool;
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(ready, 0, up, left);
    }
    void pool.close();
    return undefined;
  }

  /** Number of worker threads (the calling thread works too). */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Runs `call` over the chunks of `plan`, on every worker and on the calling thread through
   * `local`; returns when all chunks are done. Throws if a chunk trapped.
   */
  run(call: GemmCall, plan: GemmPlan, local: LocalGemm): void {
    if (this.closed) throw new Error('GemmWorkerPool is closed');
    const { rows, cols, chunkRows, chunkCols } = plan;
    for (const [name, v] of [
      ['chunkRows', chunkRows],
      ['chunkCols', chunkCols],
    ] as const) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new RangeError(`${name} ${v} must be an integer >= 1`);
    }
    const ctl = this.ctl;
    const perBand = Math.ceil(cols / chunkCols);
    const chunks = Math.ceil(rows / chunkRows) * perBand;
    for (let i = 0; i < call.length; i++) ctl[ARGS + i] = call[i]!;
    ctl[CHUNKS] = chunks;
    ctl[CHUNK_ROWS] = chunkRows;
    ctl[ROWS] = rows;
    ctl[CHUNK_COLS] = chunkCols;
    ctl[COLS] = cols;
    ctl[COL_CHUNKS] = perBand;
    ctl[OP] = OP_GEMM;
    ctl[ERROR] = 0;
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, DONE, 0);
    for (let w = 0; w < this.workers.length; w++) {
      // Atomics.add publishes the plain writes above before a worker observes the generation.
      Atomics.add(ctl, WORKERS + 2 * w, 1);
      Atomics.notify(ctl, WORKERS + 2 * w, 1);
    }
    let failure: unknown;
    for (;;) {
      const chunk = Atomics.add(ctl, NEXT, 1);
      if (chunk >= chunks) break;
      const r0 = Math.floor(chunk / perBand) * chunkRows;
      const c0 = (chunk % perBand) * chunkCols;
      try {
        local(call, r0, Math.min(rows, r0 + chunkRows), c0, Math.min(cols, c0 + chunkCols));
      } catch (error) {
        failure = error;
      }
    }
    const workers = this.workers.length;
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= workers) break;
      Atomics.wait(ctl, DONE, done);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(ctl, ERROR) !== 0) {
      throw new Error('gemm trapped in a worker (out-of-bounds pointer or size in the call)');
    }
  }

  /** Stops every worker and resolves once all have exited. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const worker of this.workers) worker.ref();
      Atomics.store(this.ctl, OP, OP_STOP);
      for (let w = 0; w < this.workers.length; w++) {
        Atomics.add(this.ctl, WORKERS + 2 * w, 1);
        Atomics.notify(this.ctl, WORKERS + 2 * w, 1);
      }
    }
    await Promise.all(this.exited);
  }
}

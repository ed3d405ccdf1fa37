// The host services the CPU kernels use, behind one interface so that the package imports no
// `node:` module in a browser. `./node.js` implements it with node:os, node:v8 and
// node:worker_threads; package.json's "browser" field swaps in `./browser.js` for bundlers, and a
// page loading dist/ through an import map maps the one URL to the other (README "In a browser").
import type { Worker, WorkerOptions } from 'node:worker_threads';

export interface Platform {
  /** Which implementation is loaded. */
  readonly name: 'node' | 'browser';
  /**
   * Threads the cpu-wasm kernels use when `threads` is not given: every core in Node
   * (`os.availableParallelism()`), 1 in a browser (the gemm pool runs on node:worker_threads).
   */
  defaultThreads(): number;
  /** Whether `createWorker` can start threads here. */
  readonly workerThreads: boolean;
  /** A node:worker_threads Worker; throws where there are no worker threads. */
  createWorker(url: URL, options: WorkerOptions): Worker;
  /**
   * Sets V8 flags (`v8.setFlagsFromString`) before a wasm module is compiled; returns false where
   * the host has no such hook (a browser), so callers keep the build the engine validates.
   */
  setV8Flags(flags: string): boolean;
  /** Whether a file exists (`fs.existsSync`); always false in a browser. */
  fileExists(path: string): boolean;
}

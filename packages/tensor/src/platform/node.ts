// Node implementation of the platform services (see ./types.ts). package.json's "browser" field
// replaces this file with ./browser.js, so these are the package's only `node:` imports.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Platform } from './types.js';

export type { Platform } from './types.js';

/**
 * LRW_TENSOR_THREADS (a whole number >= 1) when set, else every core: the CPU backend's threads
 * (the wasm gemm's worker pool and OpenBLAS), as OMP_NUM_THREADS is PyTorch's.
 */
function defaultThreads(): number {
  const env = process.env.LRW_TENSOR_THREADS;
  if (env === undefined || env === '') return availableParallelism();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(
      `LRW_TENSOR_THREADS=${env}: expected a whole number of threads from 1 to 1024 (unset: every core, ${availableParallelism()} here)`,
    );
  }
  return n;
}

export const platform: Platform = {
  name: 'node',
  defaultThreads,
  workerThreads: true,
  createWorker: (url, options) => new Worker(url, options),
  setV8Flags(flags) {
    setFlagsFromString(flags);
    return true;
  },
  fileExists: (path) => existsSync(path),
};

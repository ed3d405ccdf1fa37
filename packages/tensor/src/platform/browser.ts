// Browser implementation of the platform services (see ./types.ts): no `node:` import. The
// cpu-wasm kernels run on the calling thread (their worker pool needs node:worker_threads), and
// relaxed SIMD is used where the engine validates it without flags (Chromium >= 114).
import type { Platform } from './types.js';

export type { Platform } from './types.js';

export const platform: Platform = {
  name: 'browser',
  defaultThreads: () => 1,
  workerThreads: false,
  createWorker() {
    throw new Error(
      '@lrw/tensor cpu-wasm: the gemm worker pool needs node:worker_threads, which a browser ' +
        'lacks; create the kernels with threads: 1 (the default in a browser)',
    );
  },
  setV8Flags: () => false,
  fileExists: () => false,
};

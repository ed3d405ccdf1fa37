// Node implementation of the platform services (see ./types.ts). package.json's "browser" field
// replaces this file with ./browser.js, so these are the package's only `node:` imports.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Platform } from './types.js';

export type { Platform } from './types.js';

export const platform: Platform = {
  name: 'node',
  defaultThreads: () => availableParallelism(),
  workerThreads: true,
  createWorker: (url, options) => new Worker(url, options),
  setV8Flags(flags) {
    setFlagsFromString(flags);
    return true;
  },
  fileExists: (path) => existsSync(path),
};

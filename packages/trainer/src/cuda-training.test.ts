/**
 * The whole training loop on the cuda backend, on the CPU emulator of the CUDA driver
 * (@lrw/tensor/cuda's buildCudaEmulator: the backend's real host code and its CUDA C kernels
 * built as host C++): a tiny GPT-2 (SMALL_MODEL, seqLen 32, batch 4, 4 steps) trained on
 * 'cuda' and on 'cpu' with the same seed must give per-step losses within 1e-4 relative, and a
 * cuda run stopped after its step-2 checkpoint and resumed must give the uninterrupted run's
 * records exactly. The same checks on a real GPU (gpt2-nano) are in @lrw/tensor's device script.
 * Without a C++ compiler (or off x86-64 Linux) it is skipped with the reason printed.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerBackend } from '@lrw/tensor';
import { buildCudaEmulator, createCudaBackend } from '@lrw/tensor/cuda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerConfigInput } from './config.js';
import type { TrainStepRecord } from './metrics-record.js';
import { type TrainRunOptions, trainRun } from './run-training.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  smallRunOptions,
  trainRecords,
} from './training.test-helpers.js';

const emu = buildCudaEmulator();
if (emu.reason) console.warn(`[cuda training test skipped] ${emu.reason}`);
const why = emu.reason ? ` (skipped: ${emu.reason})` : '';
if (emu.dir) {
  process.env.LRW_CUDA_CACHE_DIR = await mkdtemp(join(tmpdir(), 'lrw-cuda-cache-'));
  // 'cuda' is registered lazily by @lrw/tensor; before its first load it may be replaced.
  registerBackend('cuda', () => createCudaBackend({ libDirs: [emu.dir!], systemSearch: false }));
}

const CONFIG: TrainerConfigInput = {
  ...SMALL_CONFIG,
  steps: 4,
  batchSize: 4,
  seqLen: 32,
  checkpointInterval: 2,
  evalInterval: 0,
};

let dataDir: string;
let root: string;
beforeAll(async () => {
  if (!emu.dir) return;
  dataDir = await prepareFixtureData();
  root = await mkdtemp(join(tmpdir(), 'lrw-trainer-cuda-'));
});
afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (root) rmSync(root, { recursive: true, force: true });
});

const options = (name: string, extra: Partial<TrainRunOptions> = {}) =>
  smallRunOptions(dataDir, join(root, name), 1, extra);
const relDiff = (a: number | null | undefined, b: number | null | undefined) =>
  Math.abs(Number(a) - Number(b)) / Math.abs(Number(b));

describe('training on cuda (CPU emulator of the driver)', () => {
  it.skipIf(!emu.dir)(
    `4 steps of a tiny GPT-2: losses within 1e-4 of cpu; resume on cuda is exact${why}`,
    async () => {
      await trainRun({ ...CONFIG, backend: 'cpu' }, options('cpu'));
      const gpu = await trainRun({ ...CONFIG, backend: 'cuda' }, options('cuda'));
      expect(gpu.config.backend).toBe('cuda');
      const c = trainRecords(join(root, 'cpu'));
      const g = trainRecords(join(root, 'cuda'));
      expect(g.map((r) => r.step)).toEqual([1, 2, 3, 4]);
      const lossDiffs = g.map((r, i) => relDiff(r.meanLoss, c[i]!.meanLoss));
      const normDiffs = g.map((r, i) => relDiff(r.gradNorm, c[i]!.gradNorm));
      console.log(
        `cuda (emulated) vs cpu: max relative difference: loss ${Math.max(...lossDiffs).toExponential(2)}, grad norm ${Math.max(...normDiffs).toExponential(2)}`,
      );
      for (const d of lossDiffs) expect(d).toBeLessThan(1e-4);
      for (const d of normDiffs) expect(d).toBeLessThan(1e-3);

      const crash = new Error('simulated crash');
      await expect(
        trainRun(
          { ...CONFIG, backend: 'cuda' },
          options('resumed', {
            hooks: {
              beforeStep: (s) => {
                if (s === 3) throw crash;
              },
            },
          }),
        ),
      ).rejects.toBe(crash);
      await trainRun({ ...CONFIG, backend: 'cuda' }, options('resumed', { resume: true }));
      const fingerprint = (records: TrainStepRecord[]) =>
        records.map((r) => [r.step, r.loss, r.meanLoss, r.gradNorm, r.lr]);
      expect(fingerprint(trainRecords(join(root, 'resumed')))).toEqual(fingerprint(g));
    },
    120_000,
  );
});

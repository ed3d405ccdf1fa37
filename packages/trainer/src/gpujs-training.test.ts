/**
 * `trainRun` with backend 'gpujs' in Node (headless-gl, WebGL1 on Mesa under an X server): 2
 * steps of the tiny GPT-2 of the training tests, per-step losses and gradient norms against a
 * cpu run. Skips with the backend's own reason where headless-gl is not built or no display is
 * set (as in CI; the browser check covers gpujs training in Chromium there).
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '@lrw/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainerConfigInput } from './config.js';
import { trainRun } from './run-training.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  smallRunOptions,
  trainRecords,
} from './training.test-helpers.js';

const unavailable = await loadBackend('gpujs').then(
  () => undefined,
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);
if (unavailable) console.warn(`[gpujs training test skipped] ${unavailable}`);

const CONFIG: TrainerConfigInput = {
  ...SMALL_CONFIG,
  steps: 2,
  batchSize: 4,
  seqLen: 32,
  checkpointInterval: 0,
  evalInterval: 0,
};

let dataDir: string | undefined;
let root: string | undefined;
afterAll(() => {
  for (const d of [dataDir, root]) if (d) rmSync(d, { recursive: true, force: true });
});

const relDiff = (a: number | null | undefined, b: number | null | undefined) =>
  Math.abs(Number(a) - Number(b)) / Math.abs(Number(b));

describe('training on gpujs', () => {
  it.skipIf(!!unavailable)(
    `2 steps of a tiny GPT-2: losses within 1e-5 and gradient norms within 1e-4 of cpu${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      dataDir = await prepareFixtureData();
      root = await mkdtemp(join(tmpdir(), 'lrw-trainer-gpujs-'));
      await trainRun({ ...CONFIG, backend: 'cpu' }, smallRunOptions(dataDir, join(root, 'cpu'), 1));
      const gl = await trainRun(
        { ...CONFIG, backend: 'gpujs' },
        smallRunOptions(dataDir, join(root, 'gpujs'), 1),
      );
      expect(gl.config.backend).toBe('gpujs');
      const c = trainRecords(join(root, 'cpu'));
      const g = trainRecords(join(root, 'gpujs'));
      expect(g.map((r) => r.step)).toEqual([1, 2]);
      for (let i = 0; i < 2; i++) {
        expect(relDiff(g[i]!.meanLoss, c[i]!.meanLoss)).toBeLessThan(1e-5);
        expect(relDiff(g[i]!.gradNorm, c[i]!.gradNorm)).toBeLessThan(1e-4);
      }
    },
    600_000,
  );
});

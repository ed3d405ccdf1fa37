/**
 * The whole training loop on the WebGPU backend: `trainRun` of a tiny GPT-2 (SMALL_MODEL: 1
 * layer, d 32, byte vocabulary; seqLen 32, batch 4, 4 steps, evaluation at the end) on 'webgpu'
 * and on 'cpu' with the same seed. Both start from the same weights (the seeded initialisation
 * is drawn on each backend from the same Philox stream) and read the same batches, so the
 * per-step losses must agree within 1e-4 relative. A webgpu run stopped after its step-2
 * checkpoint and resumed on webgpu must give the uninterrupted webgpu run's records exactly
 * (the checkpoint holds host float32 copies and the WGSL kernels reduce in a fixed order).
 * A reweighted run (LinUpper, 2 micro-batches per step) and two simulated data-parallel ranks
 * on webgpu agree with cpu the same way. Also:
 * AdamW takes the one-pass WGSL path on webgpu, and a webgpu model saves to Hugging Face files
 * (@lrw/models' async state read).
 *
 * Runs on whatever adapter the machine has (the tests try Dawn's OpenGL ES route on Mesa's
 * llvmpipe, then Vulkan, e.g. SwiftShader); without one it is skipped with the reason printed.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, loadHuggingFace, saveHuggingFace } from '@lrw/models';
import { getBackend, tensor } from '@lrw/tensor';
import { useSoftwareWebGpu } from '@lrw/tensor/webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';
import { CheckpointStore } from './checkpoint-store.js';
import type { TrainerConfigInput } from './config.js';
import type { TrainStepRecord } from './metrics-record.js';
import { type TrainRunOptions, trainRun } from './run-training.js';
import { runSimulatedRanks } from './simulated-collective.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  smallRunOptions,
  trainRecords,
} from './training.test-helpers.js';

const unavailable = (await useSoftwareWebGpu({ only: process.env.LRW_WEBGPU_TEST_ROUTE })).reason;
if (unavailable) console.warn(`[webgpu training test skipped] ${unavailable}`);
const why = unavailable ? ` (skipped: ${unavailable})` : '';

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
  if (unavailable) return;
  dataDir = await prepareFixtureData();
  root = await mkdtemp(join(tmpdir(), 'lrw-trainer-webgpu-'));
});
afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (root) rmSync(root, { recursive: true, force: true });
});

const options = (name: string, extra: Partial<TrainRunOptions> = {}) =>
  smallRunOptions(dataDir, join(root, name), 1, extra);
const trains = (name: string) => trainRecords(join(root, name));

/** Relative difference of two logged numbers (records hold null for a non-finite value). */
const relDiff = (a: number | null | undefined, b: number | null | undefined) =>
  Math.abs(Number(a) - Number(b)) / Math.abs(Number(b));

describe('training on webgpu', () => {
  it.skipIf(!!unavailable)(
    `4 steps of a tiny GPT-2: per-step losses within 1e-4 of cpu; checkpoint/resume on webgpu is exact${why}`,
    async () => {
      const started = performance.now();
      const cpu = await trainRun({ ...CONFIG, backend: 'cpu' }, options('cpu'));
      const gpu = await trainRun({ ...CONFIG, backend: 'webgpu' }, options('webgpu'));
      expect(gpu.config.backend).toBe('webgpu');
      const c = trains('cpu');
      const g = trains('webgpu');
      expect(g.map((r) => r.step)).toEqual([1, 2, 3, 4]);
      const lossDiffs = g.map((r, i) => relDiff(r.meanLoss, c[i]!.meanLoss));
      const normDiffs = g.map((r, i) => relDiff(r.gradNorm, c[i]!.gradNorm));
      const evalDiffs = Object.entries(gpu.results.domains).map(([d, v]) =>
        relDiff(v.loss, cpu.results.domains[d]!.loss),
      );
      // The final weights, from the step-4 checkpoints (host copies on both backends).
      const wc = (await new CheckpointStore(join(root, 'cpu', 'checkpoints')).loadLatest())!;
      const wg = (await new CheckpointStore(join(root, 'webgpu', 'checkpoints')).loadLatest())!;
      expect(wg.step).toBe(4);
      let weightDiff = 0;
      for (const [name, t] of Object.entries(wc.model)) {
        const other = wg.model[name]!.data;
        for (let i = 0; i < t.data.length; i++)
          weightDiff = Math.max(weightDiff, Math.abs(t.data[i]! - other[i]!));
      }
      console.log(
        `webgpu (${(getBackend('webgpu') as { route?: string }).route}) vs cpu, per step: ` +
          `loss ${g.map((r, i) => `${Number(r.meanLoss).toFixed(6)}/${Number(c[i]!.meanLoss).toFixed(6)}`).join(' ')}; ` +
          `max relative difference: loss ${Math.max(...lossDiffs).toExponential(2)}, ` +
          `grad norm ${Math.max(...normDiffs).toExponential(2)}, eval loss ${Math.max(...evalDiffs).toExponential(2)}; ` +
          `final weights max |diff| ${weightDiff.toExponential(2)}`,
      );
      for (const d of lossDiffs) expect(d).toBeLessThan(1e-4);
      for (const d of normDiffs) expect(d).toBeLessThan(1e-3);
      for (const d of evalDiffs) expect(d).toBeLessThan(1e-4);
      expect(weightDiff).toBeLessThan(1e-4);

      // Reweighted (LinUpper, r 0.4) with 2 micro-batches per step: the weights go to the device
      // as a coefficient tensor, gradients accumulate over the micro-batches.
      const reweighted: TrainerConfigInput = {
        ...CONFIG,
        steps: 3,
        checkpointInterval: 0,
        gradAccumulation: 2,
        method: 'linupper',
        temperature: { kind: 'constant', r: 0.4 },
      };
      await trainRun({ ...reweighted, backend: 'cpu' }, options('cpu-lu'));
      await trainRun({ ...reweighted, backend: 'webgpu' }, options('webgpu-lu'));
      const cl = trains('cpu-lu');
      const gl = trains('webgpu-lu');
      const weightedDiffs = gl.map((r, i) => relDiff(r.loss, cl[i]!.loss));
      console.log(
        `linupper, 2 micro-batches: weighted loss max relative difference ${Math.max(...weightedDiffs).toExponential(2)}`,
      );
      expect(gl).toHaveLength(3);
      for (const d of weightedDiffs) expect(d).toBeLessThan(1e-4);

      // Two simulated data-parallel ranks of 2 samples on webgpu train like one rank of 4 on cpu
      // (the gradients are concatenated on the device, read once, summed, uploaded once).
      await runSimulatedRanks(2, (collective) =>
        trainRun(
          { ...CONFIG, batchSize: 2, checkpointInterval: 0, backend: 'webgpu' },
          options('webgpu-ranks', { collective }),
        ),
      );
      const dp = trains('webgpu-ranks');
      const rankDiffs = dp.map((r, i) => relDiff(r.meanLoss, c[i]!.meanLoss));
      const rankNormDiffs = dp.map((r, i) => relDiff(r.gradNorm, c[i]!.gradNorm));
      console.log(
        `2 ranks x 2 samples on webgpu vs 1 x 4 on cpu: loss ${Math.max(...rankDiffs).toExponential(2)}, grad norm ${Math.max(...rankNormDiffs).toExponential(2)}`,
      );
      expect(dp).toHaveLength(4);
      for (const d of rankDiffs) expect(d).toBeLessThan(1e-4);
      for (const d of rankNormDiffs) expect(d).toBeLessThan(1e-3);

      // Stopped after the step-2 checkpoint, resumed on webgpu: the uninterrupted run exactly.
      const crash = new Error('simulated crash');
      await expect(
        trainRun(
          { ...CONFIG, backend: 'webgpu' },
          options('resumed', {
            hooks: {
              beforeStep: (s) => {
                if (s === 3) throw crash;
              },
            },
          }),
        ),
      ).rejects.toBe(crash);
      expect(trains('resumed')).toHaveLength(3);
      const resumed = await trainRun(
        { ...CONFIG, backend: 'webgpu' },
        options('resumed', { resume: true }),
      );
      const fingerprint = (records: TrainStepRecord[]) =>
        records.map((r) => [r.step, r.loss, r.meanLoss, r.gradNorm, r.lr, r.domainLoss]);
      expect(fingerprint(trains('resumed'))).toEqual(fingerprint(g));
      expect(resumed.results.domains).toEqual(gpu.results.domains);
      console.log(
        `webgpu training test: 6 runs (cpu, webgpu, 2 ranks on webgpu, webgpu stopped + resumed, linupper on both) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    },
    120_000,
  );

  it.skipIf(!!unavailable)(
    `a webgpu model saves to Hugging Face files (async reads) and loads back on cpu${why}`,
    async () => {
      const config = {
        arch: 'gpt2',
        vocabSize: 23,
        contextLength: 8,
        dModel: 8,
        nLayers: 1,
        nHeads: 2,
      } as const;
      const model = createModel(config, { seed: 7, backend: 'webgpu' });
      const dir = join(root, 'hf');
      await saveHuggingFace(model, dir);
      const back = await loadHuggingFace(dir, { backend: 'cpu' });
      const want = model.stateDict();
      for (const [name, t] of back.stateDict())
        expect(Array.from(t.dataSync()), name).toEqual(Array.from(await want.get(name)!.data()));
      model.dispose();
      back.dispose();
    },
  );

  it.skipIf(!!unavailable)(`AdamW takes the one-pass WGSL path on webgpu${why}`, () => {
    const p = tensor([1, 2, 3, 4], { shape: [2, 2], backend: 'webgpu' }).requireGrad();
    const b = tensor([0.5, -0.5], { backend: 'webgpu' }).requireGrad();
    const g = tensor([0.1, 0.2, 0.3, 0.4], { shape: [2, 2], backend: 'webgpu' });
    p.mul(g).sum().backward(); // leaves exactly g in p.grad
    g.dispose();
    const opt = new AdamW([
      ['w', p],
      ['b', b],
    ]);
    opt.step(1e-3);
    // b has no gradient: zeros on its backend, the same one-pass routine.
    expect(opt.lastStepPaths()).toEqual(['webgpu', 'webgpu']);
    opt.dispose();
    p.zeroGrad();
    p.dispose();
    b.dispose();
  });
});

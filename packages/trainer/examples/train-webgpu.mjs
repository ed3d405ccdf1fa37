// Trains a tiny GPT-2 on the two-domain test text on the WebGPU backend and on the CPU backend
// with the same seed, and prints the per-step losses side by side. From packages/trainer after
// `npx tsc -b`: node examples/train-webgpu.mjs. Needs a WebGPU adapter: a GPU with the npm
// package `webgpu`, or without a GPU Mesa's EGL packages (Debian: libegl1 libegl-mesa0
// libgl1-mesa-dri) for Dawn's OpenGL ES route on llvmpipe (slow, for tests); without one the
// webgpu run stops with a TrainerError whose HINT says what to install.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMetrics, trainRun } from '@lrw/trainer';

const root = mkdtempSync(join(tmpdir(), 'lrw-train-webgpu-'));
const text = fileURLToPath(new URL('../test/fixtures/text/', import.meta.url));
const config = {
  model: 'nano',
  seqLen: 32,
  batchSize: 8,
  steps: 10,
  lr: { kind: 'constant', lr: 1e-2, warmupSteps: 2 },
  evalInterval: 0,
  checkpointInterval: 0,
  seed: 1,
};
const options = {
  dataDir: join(root, 'data'),
  prepare: {
    sources: [{ type: 'text', path: text, split: 'paragraph' }],
    tokenizer: 'byte',
    validation: { documents: 12 },
    workers: 0,
  },
  modelOverrides: { dModel: 32, nLayers: 1, nHeads: 2 }, // a 1-layer GPT-2, d 32
  evalBatches: 2,
  progress: false,
};
const losses = {};
for (const backend of ['cpu', 'webgpu']) {
  const t0 = performance.now();
  const { outDir, results } = await trainRun(
    { ...config, backend },
    { ...options, outDir: join(root, backend) },
  );
  const train = readMetrics(join(outDir, 'metrics.jsonl')).records.filter(
    (r) => r.kind === 'train',
  );
  losses[backend] = train.map((r) => r.meanLoss);
  const val = Object.values(results.domains).map((d) => d.loss.toFixed(4));
  console.log(
    `${backend}: ${((performance.now() - t0) / 1000).toFixed(1)} s, validation loss ${val.join(' / ')}`,
  );
}
console.log('step  cpu       webgpu');
for (const [i, l] of losses.cpu.entries()) {
  console.log(`${String(i + 1).padStart(4)}  ${l.toFixed(6)}  ${losses.webgpu[i].toFixed(6)}`);
}

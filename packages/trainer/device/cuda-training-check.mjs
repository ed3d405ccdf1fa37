#!/usr/bin/env node
// The training half of the GPU check (run by packages/tensor/device/cuda-check.sh):
//  1. parity: `trainRun` of gpt2-nano on the fixture text, on 'cpu' and on 'cuda' (same seed,
//     same batches): per-step losses within 1e-4 relative, gradient norms within 1e-3;
//  2. resume on cuda: a cuda run stopped after its step-3 checkpoint and resumed must give the
//     uninterrupted cuda run's records exactly;
//  3. GPT-2 124M training tokens/s (B 8, T 1024: forward, per-sample loss through the fused
//     vocabulary head, backward, AdamW) on cuda fp32 and TF32, next to PyTorch eager fp32 / TF32
//     (torch_gpt2_step.py, same model, same GPU, same run) and the WebGPU backend (Dawn on Vulkan).
// Writes $OUT/training.json; lines starting with "summary:" are collected by cuda-check.sh.
//
//   node packages/trainer/device/cuda-training-check.mjs [--out DIR] [--small]
// --small: tiny model and shapes, for a dry run on the CPU emulator of the driver.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepare } from '@lrw/data';
import { GPT2, preset } from '@lrw/models';
import * as T from '@lrw/tensor';
import { AdamW, readMetrics, trainRun } from '../dist/index.js';

const args = process.argv.slice(2);
const outDir = args.includes('--out')
  ? args[args.indexOf('--out') + 1]
  : (process.env.OUT ?? 'out');
const small = args.includes('--small');
mkdirSync(outDir, { recursive: true });
const results = { started: new Date().toISOString(), sections: {} };
const save = () =>
  writeFileSync(join(outDir, 'training.json'), `${JSON.stringify(results, null, 1)}\n`);
const summary = (line) => console.log(`summary: ${line}`);

async function section(name, fn) {
  const t0 = performance.now();
  console.log(`\n== ${name}`);
  try {
    results.sections[name] = { ok: true, ...(await fn()) };
  } catch (e) {
    results.sections[name] = { ok: false, error: e instanceof Error ? e.stack : String(e) };
    console.log(`FAILED: ${e instanceof Error ? e.stack : e}`);
    summary(`${name}: FAILED (${e instanceof Error ? e.message.split('\n')[0] : e})`);
  }
  results.sections[name].seconds = +((performance.now() - t0) / 1000).toFixed(1);
  save();
}

const root = mkdtempSync(join(tmpdir(), 'lrw-cuda-training-'));
const textDir = fileURLToPath(new URL('../test/fixtures/text/', import.meta.url));
const dataDir = join(root, 'data');
await prepare({
  sources: [{ type: 'text', path: textDir, split: 'paragraph' }],
  tokenizer: 'byte',
  validation: { documents: 12 },
  workers: 0,
  outDir: dataDir,
});
const CONFIG = {
  model: 'nano',
  seqLen: 64,
  batchSize: 8,
  steps: 6,
  lr: { kind: 'constant', lr: 1e-3, warmupSteps: 2 },
  evalInterval: 0,
  checkpointInterval: 3,
  seed: 3,
};
const runOptions = (name, extra = {}) => ({
  dataDir,
  outDir: join(root, name),
  progress: false,
  evalBatches: 1,
  ...(small ? { modelOverrides: { dModel: 32, nLayers: 1, nHeads: 2 } } : {}),
  ...extra,
});
const records = (name) =>
  readMetrics(join(root, name, 'metrics.jsonl')).records.filter((r) => r.kind === 'train');
const rel = (a, b) => Math.abs(Number(a) - Number(b)) / Math.abs(Number(b));

await section('parity gpt2-nano cpu vs cuda', async () => {
  await trainRun({ ...CONFIG, backend: 'cpu' }, runOptions('cpu'));
  await trainRun({ ...CONFIG, backend: 'cuda' }, runOptions('cuda'));
  const c = records('cpu');
  const g = records('cuda');
  const loss = g.map((r, i) => rel(r.meanLoss, c[i].meanLoss));
  const norm = g.map((r, i) => rel(r.gradNorm, c[i].gradNorm));
  for (const [i, r] of g.entries())
    console.log(
      `  step ${r.step}: loss cuda ${r.meanLoss} cpu ${c[i].meanLoss} (rel ${loss[i].toExponential(2)}), grad norm rel ${norm[i].toExponential(2)}`,
    );
  const ok = g.length === CONFIG.steps && Math.max(...loss) < 1e-4 && Math.max(...norm) < 1e-3;
  summary(
    `training parity gpt2-nano (${CONFIG.steps} steps): max relative difference loss ${Math.max(...loss).toExponential(2)}, grad norm ${Math.max(...norm).toExponential(2)} -> ${ok ? 'ok' : 'FAIL'}`,
  );
  if (!ok)
    throw new Error('per-step losses or gradient norms differ from the CPU beyond 1e-4 / 1e-3');
  return { loss, norm };
});

await section('resume on cuda', async () => {
  const crash = new Error('simulated crash');
  await trainRun(
    { ...CONFIG, backend: 'cuda' },
    runOptions('resumed', {
      hooks: {
        beforeStep: (s) => {
          if (s === 4) throw crash;
        },
      },
    }),
  ).then(
    () => {
      throw new Error('the simulated crash did not happen');
    },
    (e) => {
      if (e !== crash) throw e;
    },
  );
  await trainRun({ ...CONFIG, backend: 'cuda' }, runOptions('resumed', { resume: true }));
  const fp = (rs) => JSON.stringify(rs.map((r) => [r.step, r.loss, r.meanLoss, r.gradNorm, r.lr]));
  const ok = fp(records('resumed')) === fp(records('cuda'));
  summary(
    `resume on cuda (stopped after the step-3 checkpoint): ${ok ? 'records identical to the uninterrupted run' : 'FAIL: records differ'}`,
  );
  if (!ok) throw new Error('resumed records differ from the uninterrupted run');
  return {};
});

/** Tokens/s of the training step of @lrw/models' GPT-2 on `backend` (median of timed steps). */
async function lrwStep(config, backend, B, Tn, steps) {
  const model = new GPT2(config, { seed: 0, backend });
  const opt = new AdamW(model.namedParameters());
  const ids = new Int32Array(B * Tn);
  const tg = new Int32Array(B * Tn);
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % config.vocabSize;
  };
  const times = [];
  let loss = Number.NaN;
  let paths = [];
  try {
    for (let s = 0; s < steps + 1; s++) {
      for (let i = 0; i < ids.length; i++) {
        ids[i] = rnd();
        tg[i] = rnd();
      }
      const t0 = performance.now();
      const l = T.tidy(() => {
        const x = T.tensor(ids, { shape: [B, Tn], dtype: 'int32', backend });
        const r = model.perSampleLoss(x, tg);
        const mean = r.losses.mean();
        mean.backward();
        return mean;
      });
      opt.step(3e-4);
      paths = [...new Set(opt.lastStepPaths())];
      model.zeroGrad();
      loss = (await l.data())[0];
      l.dispose();
      if (s > 0) times.push(performance.now() - t0);
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  const ms = times.sort((a, b) => a - b)[times.length >> 1];
  return { ms, tokensPerSecond: (B * Tn * 1000) / ms, loss, paths };
}

await section('GPT-2 124M tokens/s', async () => {
  const config = small ? { ...preset('gpt2-nano'), nLayers: 2 } : preset('gpt2');
  const [B, Tn, steps] = small ? [2, 32, 2] : [8, 1024, 3];
  const res = {};
  const cuda = await T.loadBackend('cuda');
  for (const mode of ['fp32', 'tf32']) {
    cuda.setTf32(mode === 'tf32');
    res[`cuda ${mode}`] = await lrwStep(config, 'cuda', B, Tn, steps);
    console.log(
      `  cuda ${mode}: ${res[`cuda ${mode}`].tokensPerSecond.toFixed(0)} tokens/s (${res[`cuda ${mode}`].ms.toFixed(1)} ms/step, loss ${res[`cuda ${mode}`].loss.toFixed(3)}, AdamW ${res[`cuda ${mode}`].paths})`,
    );
  }
  cuda.setTf32(false);
  const script = fileURLToPath(new URL('torch_gpt2_step.py', import.meta.url));
  for (const mode of ['fp32', 'tf32']) {
    const c = config;
    const py = spawnSync(
      'python3',
      [
        script,
        '--vocab',
        c.vocabSize,
        '--ctx',
        c.contextLength,
        '--layers',
        c.nLayers,
        '--heads',
        c.nHeads,
        '--embd',
        c.dModel,
        '--batch',
        B,
        '--seq',
        Tn,
        '--steps',
        steps + 2,
        '--mode',
        mode,
      ].map(String),
      { encoding: 'utf8', timeout: 300_000 },
    );
    try {
      res[`pytorch ${mode}`] = JSON.parse(py.stdout.trim().split('\n').pop());
      console.log(
        `  pytorch eager ${mode}: ${res[`pytorch ${mode}`].tokensPerSecond.toFixed(0)} tokens/s`,
      );
    } catch {
      res[`pytorch ${mode} error`] = (py.stderr || py.error?.message || 'no output')
        .trim()
        .split('\n')
        .slice(-2)
        .join(' ');
      console.log(`  pytorch ${mode}: not run (${res[`pytorch ${mode} error`]})`);
    }
  }
  try {
    const gpu = await T.loadBackend('webgpu');
    res.webgpu = {
      ...(await lrwStep(config, 'webgpu', B, Tn, small ? 1 : 2)),
      adapter: `${gpu.adapterInfo} via ${gpu.route}`,
    };
    console.log(
      `  webgpu (${res.webgpu.adapter}): ${res.webgpu.tokensPerSecond.toFixed(0)} tokens/s`,
    );
  } catch (e) {
    res.webgpuError = e instanceof Error ? e.message.split('\n')[0] : String(e);
    console.log(`  webgpu: not run (${res.webgpuError})`);
  }
  const tps = (k) => res[k]?.tokensPerSecond;
  const x = (a, b) => (tps(a) && tps(b) ? `x${(tps(a) / tps(b)).toFixed(2)}` : 'x n/a');
  summary(
    `GPT-2${small ? ' (small)' : ' 124M'} B=${B} T=${Tn} tokens/s: cuda fp32 ${tps('cuda fp32')?.toFixed(0)} (${x('cuda fp32', 'pytorch fp32')} pytorch eager fp32), cuda tf32 ${tps('cuda tf32')?.toFixed(0)} (${x('cuda tf32', 'pytorch tf32')} pytorch eager tf32), webgpu ${tps('webgpu')?.toFixed(0) ?? 'n/a'}; goal >= x0.50`,
  );
  return { B, T: Tn, results: res };
});

rmSync(root, { recursive: true, force: true });
results.finished = new Date().toISOString();
save();
process.exit(Object.values(results.sections).some((s) => !s.ok) ? 1 : 0);

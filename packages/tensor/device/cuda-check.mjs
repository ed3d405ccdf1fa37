#!/usr/bin/env node
// The tensor half of the GPU check (run by cuda-check.sh on a machine with an NVIDIA GPU):
//  1. the backend starts: device, driver, kernel image, cuBLAS;
//  2. the shared conformance suite on 'cuda' (fused routines) and 'cuda-composed' (none);
//  3. kernel paths the small cases miss, against the CPU backend: blockwise attention at
//     GPT-2 shapes, block-per-row softmax, scatter-add (bit-identical), Philox (bit-identical
//     uniform), the chunked vocabulary head, TF32 products;
//  4. matmul TFLOP/s at 4096 x 4096 x 4096, fp32 and TF32, next to torch.matmul (same GPU, same
//     run) and the WebGPU backend (Dawn on Vulkan).
// Writes $OUT/tensor.json; lines starting with "summary:" are collected by cuda-check.sh.
//
//   node packages/tensor/device/cuda-check.mjs [--out DIR] [--quick]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCudaBackend } from '../dist/cuda/index.js';
import * as T from '../dist/index.js';
import { runConformanceSuite } from '../dist/testing/index.js';

const args = process.argv.slice(2);
const outDir = args.includes('--out')
  ? args[args.indexOf('--out') + 1]
  : (process.env.OUT ?? 'out');
const quick = args.includes('--quick');
// --small: tiny shapes, for a dry run of this script on the CPU emulator of the driver (tests).
const small = args.includes('--small');
const Z = small
  ? { T: 40, H: 2, V: 300, rows: 24, ln: 50, mm: 64, u: 1000 }
  : { T: 1024, H: 12, V: 50257, rows: 512, ln: 8192, mm: 4096, u: 1 << 20 };
mkdirSync(outDir, { recursive: true });
const results = { started: new Date().toISOString(), sections: {} };
const save = () =>
  writeFileSync(join(outDir, 'tensor.json'), `${JSON.stringify(results, null, 1)}\n`);
const summary = (line) => console.log(`summary: ${line}`);

async function section(name, fn) {
  const t0 = performance.now();
  console.log(`\n== ${name}`);
  try {
    results.sections[name] = { ok: true, ...(await fn()) };
  } catch (e) {
    results.sections[name] = { ok: false, error: e instanceof Error ? e.stack : String(e) };
    console.log(`FAILED: ${e instanceof Error ? e.message : e}`);
    summary(`${name}: FAILED (${e instanceof Error ? e.message.split('\n')[0] : e})`);
  }
  results.sections[name].seconds = +((performance.now() - t0) / 1000).toFixed(1);
  save();
}

let cuda;
await section('start', async () => {
  // 'cuda' as the registry loads it (lazily, with the default library search).
  cuda = await T.loadBackend('cuda');
  const composed = await createCudaBackend({ name: 'cuda-composed', fusedRoutines: false });
  T.registerBackend('cuda-composed', () => composed);
  await T.loadBackend('cuda-composed');
  const info = {
    device: cuda.device,
    driverVersion: cuda.driver.driverVersion(),
    driverPath: cuda.driver.path,
    kernels: cuda.kernelOrigin,
    cublas: { version: cuda.cublas.version, lt: cuda.cublas.ltVersion, path: cuda.cublas.path },
  };
  console.log(JSON.stringify(info, null, 1));
  summary(
    `GPU ${info.device.name} (sm_${info.device.computeCapability}), driver ${info.driverVersion}, kernels ${info.kernels}, cuBLAS ${info.cublas.version}`,
  );
  return info;
});
if (!cuda) {
  summary('the cuda backend did not start: nothing else ran');
  process.exit(1);
}

for (const name of ['cuda', 'cuda-composed']) {
  await section(`conformance ${name}`, async () => {
    // --small (a dry run on the emulator, whose tests run the whole suite already): a few ops.
    const r = await runConformanceSuite(
      name,
      small
        ? { only: ['add', 'matmul', 'softmax', 'crossEntropy', 'scaledDotProductAttention'] }
        : {},
    );
    for (const f of r.failed) console.log(`  FAIL ${f.name}: ${f.message}`);
    summary(
      `conformance ${name === 'cuda' ? 'cuda (fused)' : name}: ${r.passed.length} passed, ${r.failed.length} failed, ${r.skipped.length} skipped`,
    );
    if (r.failed.length) throw new Error(`${r.failed.length} conformance checks failed`);
    return { passed: r.passed.length, failed: r.failed, skipped: r.skipped };
  });
}

/** Largest |a - b| / max |b| over the arrays. */
function relDiff(a, b) {
  let scale = 1e-30;
  let d = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / scale;
}

/** f on the GPU and on the CPU from the same seeded inputs; output and gradient differences. */
async function vsCpu(shapes, f) {
  const got = [];
  for (const backend of ['cuda', 'cpu']) {
    const xs = shapes.map((s, i) => T.randn(s, { seed: 100 + i, backend }).requireGrad());
    const y = T.tidy(() => {
      const out = f(xs);
      out.backward(T.randn(out.shape, { seed: 7, backend }));
      return out;
    });
    got.push({ y: await y.data(), g: await Promise.all(xs.map((x) => x.grad.data())) });
    for (const t of [y, ...xs]) t.dispose();
  }
  return {
    out: relDiff(got[0].y, got[1].y),
    grads: got[0].g.map((g, i) => relDiff(g, got[1].g[i])),
  };
}

await section('kernel paths vs cpu', async () => {
  const checks = {};
  const check = (name, r, tol) => {
    const worst = Math.max(r.out, ...(r.grads ?? []));
    checks[name] = { ...r, tol, ok: worst <= tol };
    console.log(
      `  ${checks[name].ok ? 'ok  ' : 'FAIL'} ${name}: output ${r.out.toExponential(2)}, gradients ${(r.grads ?? []).map((g) => g.toExponential(2)).join(' ')} (tol ${tol})`,
    );
  };
  const sdpa = ([q, k, v]) => T.scaledDotProductAttention(q, k, v);
  const q = [2, Z.H, Z.T, 64];
  check(`attention causal [${q}] (GPT-2 heads)`, await vsCpu([q, q, q], sdpa), 1e-4);
  const [tq, tk] = small ? [30, 20] : [300, 200];
  check(
    `attention non-causal [1, 4, ${tq}, 128], S = ${tk}`,
    await vsCpu(
      [
        [1, 4, tq, 128],
        [1, 4, tk, 128],
        [1, 4, tk, 128],
      ],
      ([q, k, v]) => T.scaledDotProductAttention(q, k, v, { causal: false }),
    ),
    1e-4,
  );
  check(`softmax rows of ${Z.V}`, await vsCpu([[16, Z.V]], ([x]) => x.softmax(-1)), 1e-5);
  check(
    `layerNorm [${Z.ln}, 768]`,
    await vsCpu([[Z.ln, 768], [768], [768]], ([x, w, b]) => T.layerNorm(x, w, b)),
    1e-4,
  );
  const targets = (backend) =>
    T.tensor(
      Int32Array.from({ length: Z.rows }, (_, i) => (i * 7919) % Z.V),
      { shape: [Z.rows], dtype: 'int32', backend },
    );
  check(
    `vocabulary head + cross-entropy [${Z.rows}, 768] x [${Z.V}, 768]`,
    await vsCpu(
      [
        [Z.rows, 768],
        [Z.V, 768],
      ],
      ([x, w]) => {
        const t = targets(x.backend.name);
        const l = T.linearCrossEntropy(x.mul(0.05), w.mul(0.05), t);
        t.dispose();
        return l;
      },
    ),
    1e-4,
  );
  // scatter-add: same addition order as the CPU reference, so equal bits.
  const idx = Int32Array.from({ length: 8192 }, (_, i) => (i * 7919) % 5000);
  const rowsV = Math.max(Z.V, 5000);
  const outs = [];
  for (const backend of ['cuda', 'cpu-reference']) {
    const base = T.zeros([rowsV, 8], { backend });
    const y = T.scatterAdd(
      base,
      T.tensor(idx, { shape: [8192], dtype: 'int32', backend }),
      T.randn([8192, 8], { seed: 3, backend }),
    );
    outs.push(await y.data());
    base.dispose();
    y.dispose();
  }
  checks['scatter-add bit-identical'] = { ok: outs[0].every((v, i) => Object.is(v, outs[1][i])) };
  const u = T.uniform([Z.u], { seed: 2 ** 40 + 5, offset: 9, low: -1, high: 2, backend: 'cuda' });
  const want = new Float32Array(Z.u);
  T.philoxFill(want, want.length, { seed: 2 ** 40 + 5, offset: 9, dist: 'uniform', a: -1, b: 2 });
  const got = await u.data();
  u.dispose();
  checks['Philox uniform bit-identical'] = { ok: got.every((v, i) => v === want[i]) };
  const z = T.randn([Z.u], { seed: 5, backend: 'cuda' });
  const zw = new Float32Array(Z.u);
  T.philoxFill(zw, zw.length, { seed: 5, offset: 0, dist: 'normal', a: 0, b: 1 });
  const zg = await z.data();
  z.dispose();
  let same = 0;
  for (let i = 0; i < zg.length; i++) if (zg[i] === zw[i]) same++;
  checks['Philox normal'] = { ok: relDiff(zg, zw) < 1e-6, identical: same / zg.length };
  for (const k of ['scatter-add bit-identical', 'Philox uniform bit-identical', 'Philox normal']) {
    console.log(
      `  ${checks[k].ok ? 'ok  ' : 'FAIL'} ${k}${checks[k].identical !== undefined ? ` (${(checks[k].identical * 100).toFixed(3)}% identical bits)` : ''}`,
    );
  }
  const failed = Object.entries(checks)
    .filter(([, c]) => !c.ok)
    .map(([k]) => k);
  summary(
    `kernel paths vs cpu: ${Object.keys(checks).length - failed.length} ok, ${failed.length} failed${failed.length ? ` (${failed.join('; ')})` : ''}`,
  );
  if (failed.length) throw new Error(`failed: ${failed.join('; ')}`);
  return { checks };
});

/** Median ms of `fn` on the backend (events around `reps` calls; a warm-up first). */
async function timeGpu(backend, fn, reps) {
  fn().dispose();
  await T.getBackend(backend).sync();
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn().dispose();
    await T.getBackend(backend).sync();
    times.push((performance.now() - t0) / reps);
  }
  return times.sort((a, b) => a - b)[2];
}

const TORCH_MATMUL = `
import json, sys, torch
n, reps = int(sys.argv[1]), int(sys.argv[2])
out = {'torch': torch.__version__, 'device': torch.cuda.get_device_name()}
for mode in ('fp32', 'tf32'):
    torch.backends.cuda.matmul.allow_tf32 = mode == 'tf32'
    a = torch.randn(n, n, device='cuda'); b = torch.randn(n, n, device='cuda')
    for _ in range(3): a @ b
    torch.cuda.synchronize()
    times = []
    for _ in range(5):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(reps): a @ b
        e.record(); torch.cuda.synchronize(); times.append(s.elapsed_time(e) / reps)
    ms = sorted(times)[2]
    out[mode] = {'ms': ms, 'tflops': 2 * n ** 3 / ms / 1e9}
print(json.dumps(out))
`;

await section(`matmul ${Z.mm}`, async () => {
  const n = Z.mm;
  const reps = quick || small ? 5 : 20;
  const flop = 2 * n ** 3;
  const res = {};
  const a = T.randn([n, n], { seed: 1, backend: 'cuda' });
  const b = T.randn([n, n], { seed: 2, backend: 'cuda' });
  for (const mode of ['fp32', 'tf32']) {
    cuda.setTf32(mode === 'tf32');
    const ms = await timeGpu('cuda', () => T.matmul(a, b), reps);
    res[`cuda ${mode}`] = { ms, tflops: flop / ms / 1e9 };
  }
  cuda.setTf32(false);
  a.dispose();
  b.dispose();
  const py = spawnSync('python3', ['-c', TORCH_MATMUL, String(n), String(reps)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  let torch = null;
  try {
    torch = JSON.parse(py.stdout.trim().split('\n').pop());
    res['torch fp32'] = torch.fp32;
    res['torch tf32'] = torch.tf32;
  } catch {
    res.torchError = (py.stderr || py.error?.message || 'no output')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ');
  }
  try {
    const gpu = await T.loadBackend('webgpu');
    const wa = T.randn([n, n], { seed: 1, backend: 'webgpu' });
    const wb = T.randn([n, n], { seed: 2, backend: 'webgpu' });
    const ms = await timeGpu('webgpu', () => T.matmul(wa, wb), 3);
    res['webgpu fp32'] = {
      ms,
      tflops: flop / ms / 1e9,
      adapter: `${gpu.adapterInfo} via ${gpu.route}`,
    };
    wa.dispose();
    wb.dispose();
  } catch (e) {
    res.webgpuError = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  for (const [k, v] of Object.entries(res))
    if (v?.tflops)
      console.log(
        `  ${k.padEnd(12)} ${v.tflops.toFixed(1).padStart(6)} TFLOP/s (${v.ms.toFixed(2)} ms)`,
      );
  if (res.torchError) console.log(`  torch: not run (${res.torchError})`);
  if (res.webgpuError) console.log(`  webgpu: not run (${res.webgpuError})`);
  const ratio = (x, y) =>
    res[x]?.tflops && res[y]?.tflops ? (res[x].tflops / res[y].tflops).toFixed(2) : 'n/a';
  summary(
    `matmul ${n}^3 TFLOP/s: cuda fp32 ${res['cuda fp32'].tflops.toFixed(1)} (x${ratio('cuda fp32', 'torch fp32')} torch), cuda tf32 ${res['cuda tf32'].tflops.toFixed(1)} (x${ratio('cuda tf32', 'torch tf32')} torch), webgpu ${res['webgpu fp32']?.tflops?.toFixed(1) ?? 'n/a'}`,
  );
  return { n, results: res, torch };
});

results.finished = new Date().toISOString();
save();
const bad = Object.entries(results.sections).filter(([, s]) => !s.ok);
process.exit(bad.length ? 1 : 0);

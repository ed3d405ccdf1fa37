#!/usr/bin/env node
// The gpujs backend next to 'cpu' and 'webgpu' in one headless Chromium page (no GPU here:
// WebGL2 and WebGPU both run on SwiftShader, Chromium's CPU rasterizer): matmul GFLOP/s
// (n x n x n, 2 n^3 / t, median of rounds that alternate the backends, kernels compiled and
// the pool warm before timing). Build first (`npm run build`). The gpt2-nano tokens/s of a
// training step in the same page: packages/models/bench/browser-nano.mjs.
//
//   node bench/gpujs-browser.mjs [--quick]
import { browserUnavailable, runInChromium } from '../test/gpujs/browser-page.mjs';

const quick = process.argv.includes('--quick');
const why = browserUnavailable();
if (why) {
  console.log(`gpujs browser bench skipped: ${why}`);
  process.exit(0);
}
const SIZES = quick ? [128, 256] : [128, 256, 512];
const ROUNDS = quick ? 1 : 3;
const script = `
import * as T from '@lrw/tensor';
const sizes = ${JSON.stringify(SIZES)};
const rounds = ${ROUNDS};
const out = { backends: {}, rows: [] };
const names = [];
for (const name of ['cpu', 'webgpu', 'gpujs']) {
  try {
    if (name === 'webgpu' && !(await navigator.gpu?.requestAdapter())) throw new Error('no WebGPU adapter');
    const b = await T.loadBackend(name);
    out.backends[name] = b.renderer ?? b.adapterInfo ?? name;
    names.push(name);
  } catch (e) { out.backends[name] = 'unavailable: ' + String(e.message ?? e); }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const n of sizes) {
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) * 0.5);
  const ts = Object.fromEntries(names.map((name) => [name, []]));
  const tensors = Object.fromEntries(names.map((name) => [name, [T.tensor(a, { shape: [n, n], backend: name }), T.tensor(a, { shape: [n, n], backend: name })]]));
  for (const name of names) { const c = T.matmul(...tensors[name]); await c.data(); c.dispose(); }
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const reps = name === 'gpujs' || name === 'webgpu' ? 2 : 4;
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) { const c = T.matmul(...tensors[name]); if (k === reps - 1) await c.data(); c.dispose(); }
      ts[name].push((performance.now() - t0) / reps);
    }
  }
  const row = { n };
  for (const name of names) row[name] = (2 * n ** 3) / (median(ts[name]) * 1e6);
  out.rows.push(row);
  for (const t of Object.values(tensors).flat()) t.dispose();
}
globalThis.result = out;
`;
const started = new Date().toISOString();
const r = await runInChromium(script, { timeoutMs: 900_000 });
console.log(`gpujs browser bench ${started} (headless Chromium, no GPU)`);
for (const [name, what] of Object.entries(r.backends)) console.log(`  ${name}: ${what}`);
console.log('| n | cpu GFLOP/s | webgpu GFLOP/s | gpujs GFLOP/s | gpujs / cpu | gpujs / webgpu |');
console.log('|---|---|---|---|---|---|');
for (const row of r.rows) {
  const f = (x) => (x === undefined ? '-' : x.toFixed(2));
  const ratio = (a, b) => (a && b ? (a / b).toFixed(3) : '-');
  console.log(
    `| ${row.n} | ${f(row.cpu)} | ${f(row.webgpu)} | ${f(row.gpujs)} | ${ratio(row.gpujs, row.cpu)} | ${ratio(row.gpujs, row.webgpu)} |`,
  );
}

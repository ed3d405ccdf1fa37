#!/usr/bin/env node
// Is gpu.js's CPU fallback worth offering as a training path? Its 'cpu' mode (kernels as
// JavaScript loops) and its 'webasm' mode (WebAssembly SIMD) against @lrw/tensor's own 'cpu'
// backend on the same matmul (n x n x n float32, GFLOP/s = 2 n^3 / t, best of 3 after a
// warm-up), in one Node process. Build first (`npm run build`); needs the optional gpu.js.
//
//   node bench/gpujs-cpu-fallback.mjs
import { createRequire } from 'node:module';
import * as T from '../dist/index.js';

const require = createRequire(import.meta.url);
let GPU;
try {
  ({ GPU } = require('gpu.js'));
} catch (e) {
  console.log(`gpujs cpu-fallback bench skipped: gpu.js is not installed (${e.message})`);
  process.exit(0);
}
await T.loadBackend('cpu');
console.log(`gpu.js CPU fallback vs @lrw/tensor cpu, ${new Date().toISOString()}`);
console.log('| n | gpu.js cpu | gpu.js webasm | @lrw/tensor cpu | best gpu.js / ours |');
console.log('|---|---|---|---|---|');
for (const n of [128, 256, 512]) {
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
  const gflops = (ms) => (2 * n ** 3) / (ms * 1e6);
  const row = [];
  for (const mode of ['cpu', 'webasm']) {
    const gpu = new GPU({ mode });
    const k = gpu.createKernel(
      function (a, b, n) {
        let s = 0;
        for (let i = 0; i < n; i++) s += a[this.thread.y * n + i] * b[i * n + this.thread.x];
        return s;
      },
      { output: [n, n], loopMaxIterations: 4096 },
    );
    k(a, b, n);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      k(a, b, n);
      best = Math.min(best, performance.now() - t0);
    }
    row.push(gflops(best));
    gpu.destroy();
  }
  const A = T.tensor(a, { shape: [n, n] });
  const B = T.tensor(b, { shape: [n, n] });
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    const c = T.matmul(A, B);
    await c.data();
    if (r > 0) best = Math.min(best, performance.now() - t0);
    c.dispose();
  }
  A.dispose();
  B.dispose();
  const ours = gflops(best);
  console.log(
    `| ${n} | ${row[0].toFixed(2)} | ${row[1].toFixed(2)} | ${ours.toFixed(2)} | ${(Math.max(...row) / ours).toFixed(3)} |`,
  );
}
process.exit(0);

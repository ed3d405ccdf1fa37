#!/usr/bin/env node
import { loadBlasProvider } from '../dist/cpu-wasm/index.js';
// Runnable version of the native BLAS example in README.md (after `npm run build`):
//   node bench/blas-example.mjs
import {
  blasProviderOf,
  cpuProvider,
  createFastCpuBackend,
  getBackend,
  loadBackend,
  randn,
  registerBackend,
  tidy,
} from '../dist/index.js';

// The default 'cpu' backend: 'openblas' where the addon is built and libopenblas found, else 'wasm'.
const cpu = getBackend('cpu');
console.log('cpu matmul path:', cpuProvider(cpu));
const blas = blasProviderOf(cpu);
if (blas) console.log(`  ${blas.library}: ${blas.config}, ${blas.threads} thread(s)`);
else console.log(`  no BLAS: ${loadBlasProvider().reason ?? 'turned off (LRW_TENSOR_BLAS=off)'}`);

// A second backend that never uses BLAS (or LRW_TENSOR_BLAS=off for the default one).
registerBackend('cpu-wasm', () => createFastCpuBackend({ name: 'cpu-wasm', blas: 'off' }));
await loadBackend('cpu-wasm');
const a = randn([256, 384], { seed: 1 });
const b = randn([384, 128], { seed: 2 });
const viaDefault = tidy(() => a.matmul(b).dataSync());
const viaWasm = tidy(() =>
  randn([256, 384], { seed: 1, backend: 'cpu-wasm' })
    .matmul(randn([384, 128], { seed: 2, backend: 'cpu-wasm' }))
    .dataSync(),
);
let worst = 0;
for (let i = 0; i < viaDefault.length; i++) {
  worst = Math.max(worst, Math.abs(viaDefault[i] - viaWasm[i]));
}
console.log(`largest difference between the two paths: ${worst.toExponential(1)}`); // ~1e-4: float32 sums of 384 products in another order
for (const t of [a, b]) t.dispose();

// Direct sgemm on Float32Arrays, in place (row-major; transposes, leading dimensions, batches).
if (blas) {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]); // X[2,3]
  const w = new Float32Array([1, 0, 1, 0, 1, 1]); // W[2,3], used as W^T
  const y = new Float32Array(4);
  blas.sgemm(x, w, y, 2, 2, 3, { transB: true });
  console.log('X W^T =', Array.from(y)); // [4, 5, 10, 11]
}

#!/usr/bin/env node
// The README's WebGPU example: a linear classifier trained on the 'webgpu' backend. Build first
// (`npm run build -w @lrw/tensor`), then `node bench/webgpu-example.mjs`.
// region readme
import { crossEntropy, noGrad, randn, setBackend, tensor, tidy } from '@lrw/tensor';

// Loads the backend on first use: navigator.gpu in a browser; in Node the optional npm package
// `webgpu` (Dawn) with a GPU driver, else Mesa's OpenGL ES (llvmpipe) in compatibility mode.
const gpu = await setBackend('webgpu'); // new tensors live on the GPU from here on
const w = randn([4, 3], { seed: 1, std: 0.1 }).requireGrad(); // (C, V)
const x = randn([8, 4], { seed: 2 }); // (N, C)
const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' }); // (N)
const losses = [];
for (let step = 0; step < 20; step++) {
  const loss = tidy(() => {
    const l = crossEntropy(x.matmul(w), y).mean(); // fused WGSL cross-entropy
    l.backward();
    return l;
  });
  noGrad(() => w.sub_(w.grad, 0.5)); // kernels are queued; nothing waits for the GPU here
  w.zeroGrad();
  losses.push(await loss.item()); // reads are async on a GPU (no itemSync)
  loss.dispose();
}
console.log(losses.map((l) => l.toFixed(3)).join(' ')); // falling losses
console.log(gpu.memory()); // exact counts: 3 live buffers (w, x, y), the rest pooled
for (const t of [w, x, y]) t.dispose();
// endregion readme

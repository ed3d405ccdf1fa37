#!/usr/bin/env node
// The CPU reference backend against plain-JavaScript peers measured in the same run (ratios, not
// absolute timings: the machine is shared). Build first (`npx tsc -b`).
//
//   node bench/reference-kernels.mjs [--quick]
//
// - matmul: reference kernel (4-row i-k-j tile, float64 accumulators) vs a naive i-k-j loop, and
//   with a transposed right operand (a stride view: no copy at the tensor level).
// - elementwise add with broadcasting vs a plain loop.
// - a transformer block forward + backward (B=4, T=64, C=128): milliseconds per step.
import * as T from '../dist/index.js';

const quick = process.argv.includes('--quick');
// The default 'cpu' backend is the fast one; this bench is about the reference kernels.
await T.setBackend('cpu-reference');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn, reps) {
  fn();
  const ts = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function naiveMatmul(A, B, C, n) {
  C.fill(0);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k];
      for (let j = 0; j < n; j++) C[i * n + j] += a * B[k * n + j];
    }
}

console.log('matmul (GFLOP/s, median)   reference   naive i-k-j   ratio   reference with B^T view');
for (const n of quick ? [128, 256] : [128, 256, 512]) {
  const a = T.randn([n, n], { seed: 1 });
  const b = T.randn([n, n], { seed: 2 });
  const A = a.dataSync();
  const B = b.dataSync();
  const C = new Float32Array(n * n);
  const reps = n >= 512 ? 3 : 7;
  const flop = 2 * n ** 3;
  const ours = flop / time(() => T.tidy(() => void a.matmul(b)), reps) / 1e6;
  const naive = flop / time(() => naiveMatmul(A, B, C, n), reps) / 1e6;
  const ourT = flop / time(() => T.tidy(() => void a.matmul(b.mT)), reps) / 1e6;
  console.log(
    `  ${String(n).padEnd(24)} ${ours.toFixed(2).padStart(9)} ${naive.toFixed(2).padStart(13)} ${(ours / naive).toFixed(2).padStart(7)}x ${ourT.toFixed(2).padStart(12)}`,
  );
  a.dispose();
  b.dispose();
}

{
  const n = 1 << 20;
  const x = T.randn([1024, 1024], { seed: 3 });
  const bias = T.randn([1024], { seed: 4 });
  const X = x.dataSync();
  const Bv = bias.dataSync();
  const O = new Float32Array(n);
  const ours = time(() => T.tidy(() => void x.add(bias)), 9);
  const plain = time(() => {
    for (let i = 0; i < 1024; i++)
      for (let j = 0; j < 1024; j++) O[i * 1024 + j] = X[i * 1024 + j] + Bv[j];
  }, 9);
  console.log(
    `add [1024,1024] + [1024]: ${ours.toFixed(2)} ms vs plain loop ${plain.toFixed(2)} ms (ratio ${(plain / ours).toFixed(2)}x)`,
  );
  x.dispose();
  bias.dispose();
}

{
  const B = 4;
  const Tn = 64;
  const C = 128;
  const H = 4;
  const g = new T.Generator(0);
  const p = {
    ln1w: T.ones([C]).requireGrad(),
    ln1b: T.zeros([C]).requireGrad(),
    attn: T.randn([C, 3 * C], { generator: g, std: 0.02 }).requireGrad(),
    proj: T.randn([C, C], { generator: g, std: 0.02 }).requireGrad(),
    ln2w: T.ones([C]).requireGrad(),
    ln2b: T.zeros([C]).requireGrad(),
    fc: T.randn([C, 4 * C], { generator: g, std: 0.02 }).requireGrad(),
    out: T.randn([4 * C, C], { generator: g, std: 0.02 }).requireGrad(),
  };
  const x = T.randn([B, Tn, C], { seed: 9 });
  const heads = (t) => t.reshape([B, Tn, H, C / H]).transpose(1, 2);
  const step = () =>
    T.tidy(() => {
      const [q, k, v] = T.split(T.layerNorm(x, p.ln1w, p.ln1b).matmul(p.attn), 3, -1);
      const a = T.scaledDotProductAttention(heads(q), heads(k), heads(v))
        .transpose(1, 2)
        .reshape([B, Tn, C]);
      const h = x.add(a.matmul(p.proj));
      const y = h.add(T.layerNorm(h, p.ln2w, p.ln2b).matmul(p.fc).gelu().matmul(p.out));
      y.square().mean().backward();
      for (const t of Object.values(p)) t.zeroGrad();
    });
  const ms = time(step, quick ? 3 : 7);
  const flop = 3 * 2 * B * Tn * (C * 3 * C + C * C + 8 * C * C + 2 * Tn * C);
  console.log(
    `transformer block fwd+bwd B=${B} T=${Tn} C=${C}: ${ms.toFixed(1)} ms/step, ${((B * Tn) / (ms / 1000)).toFixed(0)} tokens/s, ~${(flop / ms / 1e6).toFixed(2)} GFLOP/s`,
  );
}
console.log('memory after:', JSON.stringify(T.memory()));

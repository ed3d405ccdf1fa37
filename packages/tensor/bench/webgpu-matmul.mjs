#!/usr/bin/env node
// WebGPU backend speed next to the CPU backend in the same run: matmul GFLOP/s (n x n x n,
// plain and with a transposed right operand, as in x W^T) and the tokens/s of a whole GPT-2
// training step (embedding, pre-LN blocks, fused vocabulary head + cross-entropy, backward,
// AdamW) at the `gpt2-nano` config. Rounds alternate the contenders; medians reported.
// Build first (`npm run build -w @lrw/tensor`).
//
//   node bench/webgpu-matmul.mjs [--quick] [--torch]     no GPU: Dawn's GL route (llvmpipe);
//                                                        --route vulkan: SwiftShader
//   node bench/webgpu-matmul.mjs --device [--torch]      a real GPU (Dawn's default route), adds
//                                                        n = 2048, 4096 and GPT-2 124M
//
// --torch runs PyTorch beside it (Debian's /usr/bin/python3 with python3-torch): CPU with
// 1 thread for the nano step; CUDA in --device mode when torch sees a GPU.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as T from '../dist/index.js';
import { createWebGpuBackend, useSoftwareWebGpu } from '../dist/webgpu/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const device = args.includes('--device');
const withTorch = args.includes('--torch');
const ROUNDS = quick ? 1 : 3;

// --route vulkan|opengles keeps only the software routes whose flags mention it.
const only = args.includes('--route') ? args[args.indexOf('--route') + 1] : undefined;
let gpu;
if (device) {
  gpu = await createWebGpuBackend();
  T.registerBackend('webgpu', () => gpu);
  await T.loadBackend('webgpu');
} else {
  const found = await useSoftwareWebGpu({ only });
  if (!found.backend) {
    console.log(`webgpu bench skipped: no adapter. ${found.reason}`);
    process.exit(0);
  }
  gpu = found.backend;
}
const cpuName = 'cpu';
console.log(
  `webgpu adapter: ${gpu.adapterInfo || '(no description)'} via ${gpu.route}; ` +
    `maxStorageBufferBindingSize ${gpu.limits.maxStorageBufferBindingSize / 2 ** 20} MiB`,
);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Seconds per call of `fn` (enqueue `reps` calls, then wait for the backend). */
async function timeIt(backend, fn, reps) {
  fn().dispose();
  await T.getBackend(backend).sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn().dispose();
  await T.getBackend(backend).sync();
  return (performance.now() - t0) / 1000 / reps;
}

// ---- matmul ----------------------------------------------------------------------------------

const sizes = device ? [256, 512, 1024, 2048, 4096] : quick ? [256, 512] : [256, 512, 1024];
console.log('\nmatmul GFLOP/s (2 n^3 / t), median of rounds');
console.log('n     layout   webgpu    cpu       webgpu/cpu');
for (const n of sizes) {
  for (const layout of ['A B', 'A B^T']) {
    const res = { webgpu: [], [cpuName]: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const be of ['webgpu', cpuName]) {
        if (be === cpuName && n > 2048) continue;
        const a = T.randn([n, n], { seed: 1, backend: be });
        const b = T.randn([n, n], { seed: 2, backend: be });
        const bt = layout === 'A B' ? b : b.mT;
        const flop = 2 * n ** 3;
        const reps = Math.max(1, Math.min(20, Math.round(2e9 / flop / (be === 'webgpu' ? 1 : 2))));
        const s = await timeIt(be, () => T.matmul(a, bt), reps);
        res[be].push(flop / s / 1e9);
        for (const t of [a, b, bt]) t.dispose();
      }
    }
    const g = median(res.webgpu);
    const c = res[cpuName].length ? median(res[cpuName]) : Number.NaN;
    console.log(
      `${String(n).padEnd(5)} ${layout.padEnd(8)} ${g.toFixed(2).padStart(7)}   ${Number.isNaN(c) ? '   -   ' : c.toFixed(2).padStart(7)}   ${Number.isNaN(c) ? '-' : (g / c).toFixed(2)}`,
    );
  }
}

// ---- GPT-2 training step ------------------------------------------------------------------------

/** A GPT-2 (pre-LN, tied head, biases, GELU-tanh) written with @lrw/tensor ops. */
function makeGpt({ V, C, L, H, T: ctx }, backend, seed = 0) {
  const gen = new T.Generator(seed);
  const normal = (shape, std = 0.02) =>
    T.randn(shape, { generator: gen, std, backend }).requireGrad();
  const zeros = (shape) => T.zeros(shape, { backend }).requireGrad();
  const ones = (shape) => T.ones(shape, { backend }).requireGrad();
  const p = { wte: normal([V, C]), wpe: normal([ctx, C]), lnfw: ones([C]), lnfb: zeros([C]) };
  const blocks = [];
  for (let l = 0; l < L; l++) {
    blocks.push({
      ln1w: ones([C]),
      ln1b: zeros([C]),
      attnW: normal([C, 3 * C]),
      attnB: zeros([3 * C]),
      projW: normal([C, C]),
      projB: zeros([C]),
      ln2w: ones([C]),
      ln2b: zeros([C]),
      fcW: normal([C, 4 * C]),
      fcB: zeros([4 * C]),
      outW: normal([4 * C, C]),
      outB: zeros([C]),
    });
  }
  const params = [...Object.values(p), ...blocks.flatMap((b) => Object.values(b))];
  const m = params.map((t) => T.zerosLike(t));
  const v = params.map((t) => T.zerosLike(t));
  let stepCount = 0;
  const heads = (t, B, Tn) => t.reshape([B, Tn, H, C / H]).permute([0, 2, 1, 3]);
  return {
    params,
    /** One step; resolves to the loss after the AdamW update has been enqueued. */
    async step(ids, targets, B, Tn) {
      const idT = T.tensor(ids, { shape: [B, Tn], dtype: 'int32', backend });
      const tgT = T.tensor(targets, { shape: [B * Tn], dtype: 'int32', backend });
      const loss = T.tidy(() => {
        let x = T.gather(p.wte, idT).add(
          T.gather(p.wpe, T.arange(Tn, undefined, 1, { backend, dtype: 'int32' })),
        );
        for (const b of blocks) {
          const qkv = T.layerNorm(x, b.ln1w, b.ln1b).matmul(b.attnW).add(b.attnB);
          const [q, k, vv] = T.split(qkv, [C, C, C], -1);
          const a = T.scaledDotProductAttention(heads(q, B, Tn), heads(k, B, Tn), heads(vv, B, Tn))
            .permute([0, 2, 1, 3])
            .reshape([B, Tn, C]);
          x = x.add(a.matmul(b.projW).add(b.projB));
          const h = T.layerNorm(x, b.ln2w, b.ln2b).matmul(b.fcW).add(b.fcB).gelu();
          x = x.add(h.matmul(b.outW).add(b.outB));
        }
        const hf = T.layerNorm(x, p.lnfw, p.lnfb).reshape([B * Tn, C]);
        const l = T.linearCrossEntropy(hf, p.wte, tgT).mean();
        l.backward();
        return l;
      });
      stepCount++;
      params.forEach((t, i) => {
        T.adamwStep(t, t.grad, m[i], v[i], { lr: 5e-4, step: stepCount });
        t.zeroGrad();
      });
      const value = (await loss.data())[0];
      for (const t of [loss, idT, tgT]) t.dispose();
      return value;
    },
    dispose() {
      for (const t of [...params, ...m, ...v]) t.dispose();
    },
  };
}

async function tokensPerSecond(cfg, backend, B, Tn, steps) {
  const model = makeGpt(cfg, backend);
  const ids = new Int32Array(B * Tn);
  const tg = new Int32Array(B * Tn);
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % cfg.V;
  };
  const times = [];
  let loss = 0;
  let launches = 0;
  for (let s = 0; s < steps + 1; s++) {
    if (s === 1) launches = gpu.launches;
    for (let i = 0; i < ids.length; i++) {
      ids[i] = rnd();
      tg[i] = rnd();
    }
    const t0 = performance.now();
    loss = await model.step(ids, tg, B, Tn);
    if (s > 0) times.push(performance.now() - t0);
  }
  model.dispose();
  const ms = median(times);
  const perStep = backend === 'webgpu' ? (gpu.launches - launches) / steps : 0;
  return { ms, tokens: (B * Tn * 1000) / ms, loss, perStep };
}

function torchCpu(cfg, B, Tn) {
  const py = '/usr/bin/python3';
  const script = new URL('../../../../shared/bench/torch_gpt_bench.py', import.meta.url).pathname;
  if (!existsSync(py) || !existsSync(script)) return null;
  const r = spawnSync(
    py,
    [
      script,
      ...['--vocab', cfg.V, '--layers', cfg.L, '--heads', cfg.H, '--embd', cfg.C],
      ...['--seq', Tn, '--batch', B, '--threads', 1, '--steps', quick ? 5 : 10],
    ].map(String),
    { encoding: 'utf8' },
  );
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return null;
  }
}

const TORCH_CUDA = String.raw`
import json, math, statistics, sys, time, torch, torch.nn as nn, torch.nn.functional as F
V, L, H, C, T, B, steps = (int(x) for x in sys.argv[1:8])
dev = 'cuda'
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.l1, s.l2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.qkv, s.proj, s.fc, s.out = nn.Linear(C, 3*C), nn.Linear(C, C), nn.Linear(C, 4*C), nn.Linear(4*C, C)
    def forward(s, x):
        Bn, Tn, _ = x.shape
        q, k, v = (t.view(Bn, Tn, H, C // H).transpose(1, 2) for t in s.qkv(s.l1(x)).split(C, 2))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(Bn, Tn, C)
        x = x + s.proj(a)
        return x + s.out(F.gelu(s.fc(s.l2(x)), approximate='tanh'))
class GPT(nn.Module):
    def __init__(s):
        super().__init__(); s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        s.blocks = nn.ModuleList([Block() for _ in range(L)]); s.lf = nn.LayerNorm(C)
    def forward(s, idx, tgt):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1], device=dev))
        for b in s.blocks: x = b(x)
        return F.cross_entropy(s.lf(x).view(-1, C) @ s.wte.weight.t(), tgt.view(-1))
m = GPT().to(dev); opt = torch.optim.AdamW(m.parameters(), lr=5e-4, weight_decay=0.01)
times = []
for i in range(steps + 2):
    idx = torch.randint(0, V, (B, T), device=dev); tgt = torch.randint(0, V, (B, T), device=dev)
    torch.cuda.synchronize(); t0 = time.perf_counter()
    loss = m(idx, tgt); opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    torch.cuda.synchronize()
    if i >= 2: times.append(time.perf_counter() - t0)
med = statistics.median(times)
print(json.dumps({'system': 'pytorch-' + torch.__version__ + '-cuda fp32', 'median_step_ms': round(med * 1e3, 2), 'tokens_per_s': round(B * T / med, 1)}))
`;

function torchCuda(cfg, B, Tn, steps) {
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(
    py,
    ['-c', TORCH_CUDA, ...[cfg.V, cfg.L, cfg.H, cfg.C, Tn, B, steps].map(String)],
    { encoding: 'utf8' },
  );
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: (r.stderr || '').trim().split('\n').pop() };
  }
}

const NANO = { V: 257, C: 128, L: 4, H: 4, T: 256 };
const steps = quick ? 3 : 5;
for (const [label, cfg, B, Tn, backends] of [
  ['gpt2-nano (V 257, C 128, 4 layers, 4 heads)', NANO, 8, 64, ['webgpu', cpuName]],
  ...(device
    ? [
        [
          'GPT-2 124M (V 50257, C 768, 12 layers, 12 heads)',
          { V: 50257, C: 768, L: 12, H: 12, T: 1024 },
          4,
          1024,
          ['webgpu'],
        ],
      ]
    : []),
]) {
  console.log(`\ntraining step ${label}, B=${B} T=${Tn}: forward + backward + AdamW`);
  const res = Object.fromEntries(backends.map((b) => [b, []]));
  let loss = {};
  let perStep = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const be of backends) {
      const out = await tokensPerSecond(cfg, be, B, Tn, steps);
      res[be].push(out.tokens);
      loss[be] = out.loss;
      if (be === 'webgpu') perStep = out.perStep;
    }
  }
  for (const be of backends) {
    console.log(
      `  ${be.padEnd(7)} ${median(res[be]).toFixed(0).padStart(7)} tokens/s   (last loss ${loss[be].toFixed(4)})`,
    );
  }
  console.log(`  webgpu dispatches per step: ${perStep.toFixed(0)}`);
  if (backends.includes(cpuName)) {
    console.log(`  webgpu/cpu ${(median(res.webgpu) / median(res[cpuName])).toFixed(2)}`);
  }
  if (withTorch) {
    const t = device ? torchCuda(cfg, B, Tn, steps) : torchCpu(cfg, B, Tn);
    if (t?.tokens_per_s) {
      console.log(
        `  ${t.system}: ${t.tokens_per_s} tokens/s; webgpu/pytorch ${(median(res.webgpu) / t.tokens_per_s).toFixed(3)}`,
      );
    } else console.log(`  pytorch: not run (${t?.error ?? 'python3-torch or the script missing'})`);
  }
  loss = {};
}
gpu.destroy();

#!/usr/bin/env node
// One GPT-2 transformer block forward + backward: tokens/s of the reference CPU kernels, the fast
// backend (wasm SIMD matmul; tensors in the wasm heap, or in ArrayBuffers copied per product),
// and PyTorch (bench/torch_block.py, Debian python3-torch) in the same run, 1 and 2 threads.
// Rounds alternate the contenders so a shared machine's load hits them alike; medians reported.
// Build first (`npx tsc -b`).
//
//   node bench/transformer-block.mjs [--quick] [--no-torch]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as T from '../dist/index.js';

const quick = process.argv.includes('--quick');
const withTorch = !process.argv.includes('--no-torch');
const ROUNDS = quick ? 1 : 3;
const CONFIGS = [
  { label: 'B=8 T=128 C=128 H=4 (the "tiny"/nano block)', B: 8, T: 128, C: 128, H: 4 },
  ...(quick
    ? []
    : [{ label: 'B=8 T=128 C=384 H=6 (the micro block)', B: 8, T: 128, C: 384, H: 6 }]),
];

const one = T.createFastCpuBackend({ name: 'fast-1t', wasm: { threads: 1 } });
const mm1 = T.wasmKernelsOf(one);
T.registerBackend('fast-1t', () => one);
T.registerBackend('fast-heap-1t', () =>
  T.createFastCpuBackend({ name: 'fast-heap-1t', wasmKernels: mm1, storage: 'wasm-heap' }),
);
T.registerBackend('fast-nofuse-1t', () =>
  T.createFastCpuBackend({ name: 'fast-nofuse-1t', wasmKernels: mm1, fusedRoutines: false }),
);
T.registerBackend('fast-2t', () =>
  T.createFastCpuBackend({ name: 'fast-2t', wasm: { threads: 2 } }),
);

const VARIANTS = [
  ['reference kernels (1 thread)', 'cpu-reference', 1],
  ['fast (default cpu)', 'fast-1t', 1],
  ["fast, storage: 'wasm-heap'", 'fast-heap-1t', 1],
  ['fast, without fused routines', 'fast-nofuse-1t', 1],
  ['fast (default cpu)', 'fast-2t', 2],
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function makeBlock({ B, T: Tn, C, H }) {
  const g = new T.Generator(0);
  const w = (shape) => T.randn(shape, { generator: g, std: 0.02 }).requireGrad();
  const p = {
    ln1w: T.ones([C]).requireGrad(),
    ln1b: T.zeros([C]).requireGrad(),
    attnW: w([C, 3 * C]),
    attnB: T.zeros([3 * C]).requireGrad(),
    projW: w([C, C]),
    projB: T.zeros([C]).requireGrad(),
    ln2w: T.ones([C]).requireGrad(),
    ln2b: T.zeros([C]).requireGrad(),
    fcW: w([C, 4 * C]),
    fcB: T.zeros([4 * C]).requireGrad(),
    outW: w([4 * C, C]),
    outB: T.zeros([C]).requireGrad(),
  };
  const x = T.randn([B, Tn, C], { seed: 9 });
  const heads = (t) => t.reshape([B, Tn, H, C / H]).transpose(1, 2);
  const step = () =>
    T.tidy(() => {
      const qkv = T.layerNorm(x, p.ln1w, p.ln1b).matmul(p.attnW).add(p.attnB);
      const [q, k, v] = T.split(qkv, 3, -1);
      const a = T.scaledDotProductAttention(heads(q), heads(k), heads(v))
        .transpose(1, 2)
        .reshape([B, Tn, C]);
      const h = x.add(a.matmul(p.projW).add(p.projB));
      const m = T.layerNorm(h, p.ln2w, p.ln2b).matmul(p.fcW).add(p.fcB).gelu();
      const y = h.add(m.matmul(p.outW).add(p.outB));
      y.square().mean().backward();
      for (const t of Object.values(p)) t.zeroGrad();
    });
  const dispose = () => {
    for (const t of [...Object.values(p), x]) t.dispose();
  };
  return { step, dispose };
}

// Wall and process CPU milliseconds per step (medians). CPU time (all threads of the process)
// is the load-independent measure on a shared machine: other tenants stretch wall time only.
function timeSteps(step, reps) {
  step();
  const ts = [];
  const cs = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cs.push((c.user + c.system) / 1000);
  }
  return { ms: median(ts), cpuMs: median(cs) };
}

let torch;
if (withTorch) {
  const child = spawn('/usr/bin/python3', [new URL('./torch_block.py', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  torch = {
    async time(cfg, threads, reps) {
      child.stdin.write(`${JSON.stringify({ ...cfg, threads, reps })}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error('torch_block.py exited (is python3-torch installed?)');
      return JSON.parse(value);
    },
    close: () => child.stdin.end(),
  };
}

for (const cfg of CONFIGS) {
  const reps = cfg.C >= 384 ? 3 : 5;
  const times = new Map();
  const add = (key, ms) => times.set(key, [...(times.get(key) ?? []), ms]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [, name, threads] of VARIANTS) {
      await T.setBackend(name);
      const blk = makeBlock(cfg);
      add(name, timeSteps(blk.step, name === 'cpu-reference' && cfg.C >= 384 ? 1 : reps));
      blk.dispose();
      if (torch && (threads === 1 || name === 'fast-2t')) {
        // PyTorch right after ours at the same thread count (once per thread count per round).
        if (name === 'fast-1t' || name === 'fast-2t')
          add(`torch-${threads}t`, await torch.time(cfg, threads, reps));
      }
    }
  }
  await T.setBackend('cpu');
  const tps = (rs, k) => (cfg.B * cfg.T) / (median(rs.map((r) => r[k])) / 1000);
  const ref = times.get('cpu-reference');
  console.log(
    `\ntransformer block fwd+bwd, ${cfg.label}; medians of ${ROUNDS} rounds; wall tokens/s and tokens per CPU-second`,
  );
  console.log(
    '| contender | threads | tokens/s (wall) | tokens/CPU-s | vs reference (CPU-s) | vs PyTorch, same threads (wall / CPU-s) |',
  );
  console.log('|---|---|---|---|---|---|');
  const rows = [
    ...VARIANTS.map(([label, name, threads]) => [label, name, threads]),
    ...(torch
      ? [
          ['PyTorch', 'torch-1t', 1],
          ['PyTorch', 'torch-2t', 2],
        ]
      : []),
  ];
  for (const [label, key, threads] of rows) {
    const rs = times.get(key);
    const wall = tps(rs, 'ms');
    const cpu = tps(rs, 'cpuMs');
    const peer = times.get(`torch-${threads}t`);
    const vsTorch = peer
      ? `${(wall / tps(peer, 'ms')).toFixed(2)}x / ${(cpu / tps(peer, 'cpuMs')).toFixed(2)}x`
      : 'n/a';
    console.log(
      `| ${label} | ${threads} | ${wall.toFixed(0)} | ${cpu.toFixed(0)} | ${(cpu / tps(ref, 'cpuMs')).toFixed(2)}x | ${vsTorch} |`,
    );
  }
}
torch?.close();

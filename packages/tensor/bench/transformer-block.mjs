#!/usr/bin/env node
// One GPT-2 transformer block forward + backward: tokens/s of the reference CPU kernels, the fast
// backend with its wasm SIMD matmul (BLAS off) and with the native OpenBLAS provider (where the
// addon is built and the library installed), and PyTorch (bench/torch_block.py, Debian
// python3-torch) in the same run, 1 and 2 threads. Rounds alternate the contenders so a shared
// machine's load hits them alike; medians reported. Build first (`npm run build`).
//
//   node bench/transformer-block.mjs [--quick] [--no-torch] [--all] [--sizes 128,384,768]
//
// --all adds the wasm variants with tensors in the wasm heap and without the fused routines.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as T from '../dist/index.js';

const quick = process.argv.includes('--quick');
const withTorch = !process.argv.includes('--no-torch');
const ROUNDS = quick ? 1 : 3;
const all = process.argv.includes('--all');
const sizesArg = process.argv.includes('--sizes')
  ? process.argv[process.argv.indexOf('--sizes') + 1]
  : quick
    ? '128'
    : '128,384,768';
const HEADS = { 128: 4, 256: 4, 384: 6, 512: 8, 768: 12 };
const NAMES = { 128: ' (the "tiny"/nano block)', 384: ' (the micro block)', 768: ' (GPT-2 small)' };
const CONFIGS = sizesArg.split(',').map((c) => {
  const C = Number(c);
  const H = HEADS[C] ?? C / 64;
  return { label: `B=8 T=128 C=${C} H=${H}${NAMES[C] ?? ''}`, B: 8, T: 128, C, H };
});

const one = T.createFastCpuBackend({ name: 'fast-1t', wasm: { threads: 1 }, blas: 'off' });
const mm1 = T.wasmKernelsOf(one);
T.registerBackend('fast-1t', () => one);
T.registerBackend('fast-heap-1t', () =>
  T.createFastCpuBackend({
    name: 'fast-heap-1t',
    wasmKernels: mm1,
    storage: 'wasm-heap',
    blas: 'off',
  }),
);
T.registerBackend('fast-nofuse-1t', () =>
  T.createFastCpuBackend({
    name: 'fast-nofuse-1t',
    wasmKernels: mm1,
    fusedRoutines: false,
    blas: 'off',
  }),
);
const two = T.createFastCpuBackend({ name: 'fast-2t', wasm: { threads: 2 }, blas: 'off' });
T.registerBackend('fast-2t', () => two);
// OpenBLAS's thread count is process-wide: set before each of its variants runs.
const blas1 = T.createFastCpuBackend({ name: 'blas-1t', wasmKernels: mm1, blas: 'auto' });
const blasOn = T.cpuProvider(blas1) === 'openblas';
if (!blasOn) console.error('BLAS provider unavailable: its rows are left out');
T.registerBackend('blas-1t', () => blas1);
T.registerBackend('blas-2t', () =>
  T.createFastCpuBackend({ name: 'blas-2t', wasmKernels: T.wasmKernelsOf(two), blas: 'auto' }),
);

// [label, backend, threads, measured right before PyTorch at that thread count]
const VARIANTS = [
  ['reference kernels (1 thread)', 'cpu-reference', 1],
  ['fast, wasm gemm', 'fast-1t', 1, true],
  ...(all
    ? [
        ["fast, wasm gemm, storage: 'wasm-heap'", 'fast-heap-1t', 1],
        ['fast, wasm gemm, without fused routines', 'fast-nofuse-1t', 1],
      ]
    : []),
  ...(blasOn ? [['fast, OpenBLAS provider', 'blas-1t', 1]] : []),
  ['fast, wasm gemm', 'fast-2t', 2, true],
  ...(blasOn ? [['fast, OpenBLAS provider', 'blas-2t', 2]] : []),
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

// One persistent PyTorch process per thread count: Debian's torch calls OpenBLAS, whose own
// pthreads ignore torch.set_num_threads, so each process pins them with OPENBLAS_NUM_THREADS
// (without it the "1 thread" peer ran its products on both cores).
let torch;
let peerAllocator = 'n/a';
if (withTorch) {
  const peers = new Map();
  const peer = (threads) => {
    if (!peers.has(threads)) {
      const child = spawn(
        '/usr/bin/python3',
        [new URL('./torch_block.py', import.meta.url).pathname],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
          env: {
            ...process.env,
            OPENBLAS_NUM_THREADS: String(threads),
            OMP_NUM_THREADS: String(threads),
          },
        },
      );
      peers.set(threads, {
        child,
        lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](),
      });
    }
    return peers.get(threads);
  };
  torch = {
    async time(cfg, threads, reps) {
      const { child, lines } = peer(threads);
      child.stdin.write(`${JSON.stringify({ ...cfg, threads, reps })}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error('torch_block.py exited (is python3-torch installed?)');
      const answer = JSON.parse(value);
      peerAllocator = answer.allocator ?? 'system';
      return answer;
    },
    close: () => {
      for (const { child } of peers.values()) child.stdin.end();
    },
  };
}

for (const cfg of CONFIGS) {
  const reps = cfg.C >= 384 ? 3 : 5;
  const times = new Map();
  const add = (key, ms) => times.set(key, [...(times.get(key) ?? []), ms]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [, name, threads, peerAfter] of VARIANTS) {
      if (name === 'cpu-reference' && cfg.C > 384) continue; // minutes per step
      await T.setBackend(name);
      T.blasProviderOf(T.getBackend(name))?.setThreads(threads);
      const blk = makeBlock(cfg);
      add(name, timeSteps(blk.step, name === 'cpu-reference' && cfg.C >= 384 ? 1 : reps));
      blk.dispose();
      // PyTorch right after ours at the same thread count (once per thread count per round).
      if (torch && peerAfter) add(`torch-${threads}t`, await torch.time(cfg, threads, reps));
    }
  }
  await T.setBackend('cpu');
  const tps = (rs, k) => (cfg.B * cfg.T) / (median(rs.map((r) => r[k])) / 1000);
  const ref = times.get('cpu-reference');
  console.log(
    `\ntransformer block fwd+bwd, ${cfg.label}; medians of ${ROUNDS} rounds; wall tokens/s and tokens per CPU-second; PyTorch's allocator: ${peerAllocator}${peerAllocator.startsWith('jemalloc') || !torch ? '' : ' (NOT jemalloc: apt-get install libjemalloc2; the ratios overstate us)'}`,
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
    if (!rs) continue;
    const wall = tps(rs, 'ms');
    const cpu = tps(rs, 'cpuMs');
    const peer = times.get(`torch-${threads}t`);
    const vsTorch = peer
      ? `${(wall / tps(peer, 'ms')).toFixed(2)}x / ${(cpu / tps(peer, 'cpuMs')).toFixed(2)}x`
      : 'n/a';
    console.log(
      `| ${label} | ${threads} | ${wall.toFixed(0)} | ${cpu.toFixed(0)} | ${ref ? `${(cpu / tps(ref, 'cpuMs')).toFixed(2)}x` : 'n/a'} | ${vsTorch} |`,
    );
  }
}
torch?.close();

#!/usr/bin/env node
// Matmul GFLOP/s of the wasm SIMD path (dist/, so build first) against OpenBLAS through Debian's
// PyTorch, measured in the same run, 1 and 2 threads; prints medians and the ratio ours/peer.
//
//   node bench/wasm-matmul.mjs [--quick] [--threads 1,2] [--simd]
//
// --simd forces the plain SIMD build (default: relaxed SIMD/FMA where the engine allows).
// The peer needs `apt-get install python3-torch` and runs on /usr/bin/python3 (Debian's
// interpreter: another python3 may be first on PATH) and Debian's `libopenblas0-pthread`, without
// which libblas.so.3 is the netlib reference BLAS (~3 GFLOP/s). See /work/shared/bench/README.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createWasmKernels } from '../dist/cpu-wasm/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const threadsArg = args.includes('--threads') ? args[args.indexOf('--threads') + 1] : '1,2';
const threadCounts = threadsArg.split(',').map(Number);
const PYTHON = '/usr/bin/python3';

// [label, M, K, N]: C[M,N] = A[M,K] x B[K,N].
const SHAPES = [
  ['square 256', 256, 256, 256],
  ['square 512', 512, 512, 512],
  ['square 1024', 1024, 1024, 1024],
  ['square 2048', 2048, 2048, 2048],
  ['MLP up, B*T=1024 C=128 (x 4C)', 1024, 128, 512],
  ['MLP up, B*T=1024 C=768 (x 4C)', 1024, 768, 3072],
  ['MLP down, B*T=1024 4C=3072 -> C=768', 1024, 3072, 768],
  ['vocab head, B*T=1024 C=128 V=50304', 1024, 128, 50304],
  ['vocab head, B*T=256 C=768 V=50304', 256, 768, 50304],
].filter((s) => !quick || s[1] * s[2] * s[3] <= 1024 ** 3);

const MIN_SECONDS = quick ? 0.15 : 0.4;
const MIN_REPS = 3;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

async function ours(threads) {
  const mm = await createWasmKernels({
    threads,
    relaxedSimd: args.includes('--simd') ? false : 'auto',
  });
  const out = [];
  const cpuOut = [];
  for (const [, m, k, n] of SHAPES) {
    const a = mm.heap.alloc(m * k);
    const b = mm.heap.alloc(k * n);
    const c = mm.heap.alloc(m * n);
    for (let i = 0; i < a.length; i++) a[i] = Math.random();
    for (let i = 0; i < b.length; i++) b[i] = Math.random();
    mm.matmul(a, b, c, m, n, k); // warm-up
    const times = [];
    const cpuTimes = [];
    const t0 = performance.now();
    while (times.length < MIN_REPS || performance.now() - t0 < MIN_SECONDS * 1000) {
      const t = performance.now();
      const u = process.cpuUsage();
      mm.matmul(a, b, c, m, n, k);
      const d = process.cpuUsage(u);
      times.push((performance.now() - t) / 1000);
      cpuTimes.push((d.user + d.system) / 1e6);
    }
    out.push((2 * m * n * k) / median(times) / 1e9);
    cpuOut.push((2 * m * n * k) / median(cpuTimes) / 1e9);
    mm.heap.free(a);
    mm.heap.free(b);
    mm.heap.free(c);
  }
  const isa = mm.instructionSet;
  await mm.close();
  return { gflops: out, cpuGflops: cpuOut, isa };
}

const PEER = `
import json, sys, time, statistics, torch
threads, min_s, min_reps = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
shapes = json.loads(sys.argv[4])
torch.set_num_threads(threads)
out, cpu_out = [], []
for m, k, n in shapes:
    a, b = torch.rand(m, k), torch.rand(k, n)
    c = torch.mm(a, b)
    times, cpu_times, t0 = [], [], time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - t0 < min_s:
        t, u = time.perf_counter(), time.process_time()
        torch.mm(a, b, out=c)
        cpu_times.append(time.process_time() - u)
        times.append(time.perf_counter() - t)
    out.append(2 * m * n * k / statistics.median(times) / 1e9)
    cpu_out.append(2 * m * n * k / max(statistics.median(cpu_times), 1e-9) / 1e9)
# Debian's torch calls whichever libblas.so.3 the alternatives system selects: name it.
libs = [l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower()]
blas = sorted({l.rsplit("/", 2)[-2] + "/" + l.rsplit("/", 1)[-1] for l in libs})
print(json.dumps({"gflops": out, "cpuGflops": cpu_out, "torch": torch.__version__, "blas": ", ".join(blas)}))
`;

function peer(threads) {
  if (!existsSync(PYTHON)) return undefined;
  try {
    const shapes = JSON.stringify(SHAPES.map(([, m, k, n]) => [m, k, n]));
    const stdout = execFileSync(
      PYTHON,
      ['-c', PEER, String(threads), String(MIN_SECONDS), String(MIN_REPS), shapes],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        // OpenBLAS's own pthreads ignore torch.set_num_threads: pin them too.
        env: {
          ...process.env,
          OPENBLAS_NUM_THREADS: String(threads),
          OMP_NUM_THREADS: String(threads),
        },
      },
    );
    return JSON.parse(stdout.trim().split('\n').pop());
  } catch (error) {
    console.warn(
      `peer skipped: PyTorch unavailable on ${PYTHON} (${error.message.split('\n')[0]})`,
    );
    return undefined;
  }
}

const rows = [];
let isa = '';
let peerInfo = '';
for (const threads of threadCounts) {
  // Alternate peer and ours per thread count so both see similar machine load.
  const p = peer(threads);
  const o = await ours(threads);
  isa = o.isa;
  if (p) peerInfo = `PyTorch ${p.torch} (${p.blas})`;
  SHAPES.forEach(([label, m, k, n], i) => {
    rows.push({
      label,
      shape: `${m}x${k} * ${k}x${n}`,
      threads,
      ours: o.gflops[i],
      peer: p?.gflops[i],
      oursCpu: o.cpuGflops[i],
      peerCpu: p?.cpuGflops[i],
    });
  });
}

const f = (x) => (x === undefined ? '-' : x.toFixed(1));
const ratio = (x, y) => (x === undefined || y === undefined ? '-' : (x / y).toFixed(2));
console.log(
  `\nwasm ${isa} vs ${peerInfo || 'no peer'}; GFLOP/s = 2MNK/t, median; node ${process.version}`,
);
// Per CPU-second figures (flops / process CPU time) ignore time spent descheduled, which makes
// the 1-thread comparison steadier on a busy shared VM; with 2 threads they show efficiency.
console.log('cpu columns: GFLOP per CPU-second of the process (all threads summed)\n');
console.log(
  '| shape | M x K * K x N | threads | wasm GFLOP/s | peer GFLOP/s | ours/peer | wasm cpu | peer cpu | ours/peer cpu |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${r.shape} | ${r.threads} | ${f(r.ours)} | ${f(r.peer)} | ${ratio(r.ours, r.peer)} ` +
      `| ${f(r.oursCpu)} | ${f(r.peerCpu)} | ${ratio(r.oursCpu, r.peerCpu)} |`,
  );
}

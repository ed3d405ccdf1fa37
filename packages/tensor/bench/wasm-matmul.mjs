#!/usr/bin/env node
// Matmul GFLOP/s of the wasm SIMD path, of the native BLAS provider (lrw_blas addon over the
// system OpenBLAS; dist/, so build first) and of the addon's own native gemm (lrw_gemm.c,
// single-threaded) against OpenBLAS through Debian's PyTorch, 1 and 2 threads. The contenders alternate shape by shape, for several rounds, and the table reports
// medians and the median of the per-round ratios ours/peer, so all see the same machine load
// (these shared VMs swing several-fold with other tenants).
//
//   node bench/wasm-matmul.mjs [--quick] [--threads 1,2] [--rounds 3] [--simd] [--no-blas]
//                              [--no-native]
//   node bench/wasm-matmul.mjs --small   (wasm vs BLAS call for n = 4..128: the BLAS threshold)
//
// --simd forces the plain SIMD build (default: relaxed SIMD/FMA where the engine allows).
// The peer needs `apt-get install python3-torch libopenblas0-pthread` and runs on
// /usr/bin/python3 (Debian's interpreter: another python3 may be first on PATH); without
// libopenblas0-pthread, libblas.so.3 is the netlib reference BLAS (~3 GFLOP/s).
// See /work/shared/bench/README.md.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  createWasmKernels,
  loadBlasProvider,
  loadNativeGemmProvider,
} from '../dist/cpu-wasm/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const quick = args.includes('--quick');
const threadCounts = option('--threads', '1,2').split(',').map(Number);
const rounds = Number(option('--rounds', quick ? '1' : '3'));
const PYTHON = '/usr/bin/python3';
const blasLoad = args.includes('--no-blas') ? { reason: '--no-blas' } : loadBlasProvider();
const blas = blasLoad.provider;
if (!blas) console.error(`BLAS provider skipped: ${blasLoad.reason}`);
const nativeLoad = args.includes('--no-native')
  ? { reason: '--no-native' }
  : loadNativeGemmProvider();
const native = nativeLoad.provider;
if (!native) console.error(`native gemm skipped: ${nativeLoad.reason}`);

if (args.includes('--small')) {
  // Per-call time of tiny products, where copies into the wasm heap and the addon call matter.
  const mm = await createWasmKernels({ threads: 1 });
  blas?.setThreads(1);
  console.log('| n | wasm us/call | BLAS us/call | native gemm us/call |\n|---|---|---|---|');
  for (const n of [4, 8, 12, 16, 24, 32, 48, 64, 96, 128]) {
    const a = Float32Array.from({ length: n * n }, Math.random);
    const b = a.slice();
    const c = new Float32Array(n * n);
    const reps = Math.max(50, Math.floor(2e8 / (2 * n * n * n)));
    const time = (f) => {
      const per = [];
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        for (let i = 0; i < reps; i++) f();
        per.push(((performance.now() - t) / reps) * 1000);
      }
      return median(per);
    };
    const w = time(() => mm.matmul(a, b, c, n, n, n));
    const x = blas ? time(() => blas.matmul(a, b, c, n, n, n)) : undefined;
    const y = native ? time(() => native.matmul(a, b, c, n, n, n)) : undefined;
    const us = (v) => (v === undefined ? '-' : v.toFixed(2));
    console.log(`| ${n} | ${w.toFixed(2)} | ${us(x)} | ${us(y)} |`);
  }
  await mm.close();
  process.exit(0);
}

// [label, M, K, N]: C[M,N] = A[M,K] x B[K,N].
const SHAPES = [
  ['square 256', 256, 256, 256],
  ['square 512', 512, 512, 512],
  ['square 1024', 1024, 1024, 1024],
  ['square 2048', 2048, 2048, 2048],
  ['MLP up, B*T=1024 C=128', 1024, 128, 512],
  ['qkv, B*T=1024 C=384', 1024, 384, 1152],
  ['MLP up, B*T=1024 C=384', 1024, 384, 1536],
  ['MLP down, B*T=1024 C=384', 1024, 1536, 384],
  ['MLP up, B*T=1024 C=768', 1024, 768, 3072],
  ['MLP down, B*T=1024 C=768', 1024, 3072, 768],
  ['vocab head, B*T=1024 C=128', 1024, 128, 50304],
  ['vocab head, B*T=256 C=768', 256, 768, 50304],
].filter((s) => !quick || s[1] * s[2] * s[3] <= 1024 ** 3);

const MIN_SECONDS = quick ? 0.1 : 0.25;
const MIN_REPS = 3;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

const PEER = `
import json, sys, time, statistics, torch
threads, min_s, min_reps = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
# Debian's torch calls whichever libblas.so.3 the alternatives system selects: name it.
libs = [l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower()]
blas = sorted({l.rsplit("/", 2)[-2] + "/" + l.rsplit("/", 1)[-1] for l in libs})
print(json.dumps({"torch": torch.__version__, "blas": ", ".join(blas)}), flush=True)
for line in sys.stdin:
    m, k, n = map(int, line.split())
    a, b = torch.rand(m, k), torch.rand(k, n)
    c = torch.mm(a, b)
    times, cpu_times, t0 = [], [], time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - t0 < min_s:
        t, u = time.perf_counter(), time.process_time()
        torch.mm(a, b, out=c)
        cpu_times.append(time.process_time() - u)
        times.append(time.perf_counter() - t)
    flops = 2 * m * n * k
    print(json.dumps({"wall": flops / statistics.median(times) / 1e9,
                      "cpu": flops / max(statistics.median(cpu_times), 1e-9) / 1e9}), flush=True)
`;

/** A persistent PyTorch process answering one shape per line, or undefined without torch. */
async function startPeer(threads) {
  if (!existsSync(PYTHON)) return undefined;
  const child = spawn(
    PYTHON,
    ['-c', PEER, String(threads), String(MIN_SECONDS), String(MIN_REPS)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      // OpenBLAS's own pthreads ignore torch.set_num_threads: pin them too.
      env: {
        ...process.env,
        OPENBLAS_NUM_THREADS: String(threads),
        OMP_NUM_THREADS: String(threads),
      },
    },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the PyTorch peer exited');
    return JSON.parse(value);
  };
  try {
    const info = await next();
    return {
      info: `PyTorch ${info.torch} (${info.blas})`,
      async measure(m, k, n) {
        child.stdin.write(`${m} ${k} ${n}\n`);
        return next();
      },
      close() {
        child.stdin.end();
      },
    };
  } catch (error) {
    console.warn(`peer skipped: PyTorch unavailable on ${PYTHON} (${error.message})`);
    return undefined;
  }
}

function measureOurs(mm, operands, m, k, n) {
  const [a, b, c] = operands;
  mm.matmul(a, b, c, m, n, k); // warm-up (and the worker pool's start)
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
  const flops = 2 * m * n * k;
  return { wall: flops / median(times) / 1e9, cpu: flops / median(cpuTimes) / 1e9 };
}

const rows = [];
let isa = '';
let peerInfo = '';
for (const threads of threadCounts) {
  const mm = await createWasmKernels({
    threads,
    relaxedSimd: args.includes('--simd') ? false : 'auto',
  });
  isa = mm.instructionSet;
  blas?.setThreads(threads);
  const peer = await startPeer(threads);
  if (peer) peerInfo = peer.info;
  for (const [label, m, k, n] of SHAPES) {
    const operands = [m * k, k * n, m * n].map((len) => mm.heap.alloc(len));
    for (const x of operands.slice(0, 2)) for (let i = 0; i < x.length; i++) x[i] = Math.random();
    // BLAS reads plain ArrayBuffer-backed arrays in place (the backend's default storage).
    const plain = operands.map((x) => x.slice());
    const ours = [];
    const viaBlas = [];
    const viaNative = [];
    const theirs = [];
    for (let r = 0; r < rounds; r++) {
      ours.push(measureOurs(mm, operands, m, k, n));
      if (blas) viaBlas.push(measureOurs(blas, plain, m, k, n));
      if (native) viaNative.push(measureOurs(native, plain, m, k, n));
      if (peer) theirs.push(await peer.measure(m, k, n));
    }
    for (const x of operands) mm.heap.free(x);
    const med = (list, key) => (list.length ? median(list.map((x) => x[key])) : undefined);
    const ratio = (list, key) =>
      theirs.length && list.length
        ? median(list.map((o, i) => o[key] / theirs[i][key]))
        : undefined;
    rows.push({
      label,
      shape: `${m}x${k} * ${k}x${n}`,
      threads,
      ours: med(ours, 'wall'),
      blas: med(viaBlas, 'wall'),
      peer: med(theirs, 'wall'),
      ratio: ratio(ours, 'wall'),
      blasRatio: ratio(viaBlas, 'wall'),
      native: med(viaNative, 'wall'),
      nativeRatio: ratio(viaNative, 'wall'),
      nativeCpu: med(viaNative, 'cpu'),
      nativeRatioCpu: ratio(viaNative, 'cpu'),
      nativeVsBlas:
        viaBlas.length && viaNative.length
          ? median(viaNative.map((o, i) => o.cpu / viaBlas[i].cpu))
          : undefined,
      oursCpu: med(ours, 'cpu'),
      blasCpu: med(viaBlas, 'cpu'),
      peerCpu: med(theirs, 'cpu'),
      ratioCpu: ratio(ours, 'cpu'),
      blasRatioCpu: ratio(viaBlas, 'cpu'),
    });
    console.error(`done: ${label}, ${threads} thread(s)`);
  }
  peer?.close();
  await mm.close();
}

const f = (x, digits = 1) => (x === undefined ? '-' : x.toFixed(digits));
console.log(
  `\nwasm ${isa}; BLAS provider: ${blas ? `${blas.library} (${blas.config})` : 'none'}; ` +
    `native gemm: ${native ? `${native.config}, 1 thread` : 'none'}; ` +
    `peer ${peerInfo || 'none'}; node ${process.version}; ${rounds} round(s)` +
    '\nGFLOP/s = 2MNK/t (median); x/peer = median over rounds of x/peer, measured back to back' +
    '\ncpu columns: GFLOP per CPU-second of the process (all its threads summed); ' +
    'native/BLAS: median over rounds, per CPU-second\n',
);
console.log(
  '| shape | M x K * K x N | threads | wasm | BLAS provider | native gemm | PyTorch | wasm/peer | BLAS/peer | native/peer | wasm/peer cpu | BLAS/peer cpu | native/peer cpu | native/BLAS cpu |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${r.shape} | ${r.threads} | ${f(r.ours)} | ${f(r.blas)} | ${f(r.native)} | ${f(r.peer)} ` +
      `| ${f(r.ratio, 2)} | ${f(r.blasRatio, 2)} | ${f(r.nativeRatio, 2)} ` +
      `| ${f(r.ratioCpu, 2)} | ${f(r.blasRatioCpu, 2)} | ${f(r.nativeRatioCpu, 2)} | ${f(r.nativeVsBlas, 2)} |`,
  );
}

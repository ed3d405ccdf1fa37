// Tokens/s of full training steps (forward, per-sample losses, weights, backward, clip, AdamW)
// through Trainer.trainStep, against PyTorch (shared/bench/torch_gpt_bench.py, same model shape,
// random tokens) measured in the same run, per model and thread count; plus the reweighting
// overhead.
// The peer: PyTorch on CPU as its users run it, under jemalloc with memory retained (the script
// re-executes itself so when Debian's libjemalloc2 is installed; its JSON names the allocator,
// printed in every row). Under glibc malloc PyTorch maps and unmaps its big per-step buffers
// every step, which made it several times slower than it really is on these VMs: a row whose
// peer did not run under jemalloc is flagged, and its ratio overstates us.
// Each PyTorch thread count runs in its own process with OPENBLAS_NUM_THREADS, OMP_NUM_THREADS
// and MKL_NUM_THREADS set to it: torch.set_num_threads does not reach Debian torch's OpenBLAS,
// so a "1 thread" peer would otherwise run its products on every core.
// Our side prints its cpu provider ('openblas', 'native' or 'wasm'; LRW_TENSOR_BLAS=off for wasm,
// or --wasm to rerun the whole bench in a child process with it; LRW_TENSOR_GEMM=native for the
// addon's own single-threaded gemm, a machine with a C compiler but no libopenblas, or
// --native-gemm to rerun the bench in a child with it). Each side runs with 1 and with 2
// threads (ours: OpenBLAS's thread count; the wasm path, whose worker pool takes its size when
// the backend is made, runs one child per thread count with LRW_TENSOR_THREADS). Besides wall tokens/s, both sides report tokens per
// CPU-second (process CPU time of the timed steps, all threads): on a shared machine other
// tenants stretch wall time, not CPU time. PyTorch's CPU figure comes from a second run of the
// same script with time.perf_counter replaced by time.process_time.
// On a shared machine the load moves under a run: ours and the peer alternate, round by round
// (--rounds, default 3), each round giving one ratio; the table reports the median ratio over
// the rounds and their range.
//
//   npm run bench                        nano, micro, tiny; 1 and 2 threads; 3 rounds; + wasm
//   npm run bench:train -- --models nano --steps 5 --threads 1 --rounds 5
//   npm run bench:train -- --models nano,micro,tiny --threads 1 --native-gemm
//
// Build first (npx tsc -b). PyTorch: Debian python3-torch at /usr/bin/python3 (skipped if absent)
// and libjemalloc2 (apt-get install -y python3-torch libjemalloc2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel } from '@lrw/models';
import { computeWeights, constantTemperature, Reweighter } from '@lrw/strategies';
import { blasProviderOf, cpuProvider, getBackend, tensor, tidy, wasmKernelsOf } from '@lrw/tensor';
import { parseTrainerConfig, stepWeights, TRAINER_MODELS, Trainer } from '../dist/index.js';
import { randomSource } from './random-source.mjs';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((a) => a.trim().split(/\s+/)),
);
const models = (args.models ?? 'nano,micro,tiny').split(',');
// Ours: the median of 5 steps after 2 warm-ups (the peer's warm-up count): with 1 warm-up, V8
// was still compiling the step's hot functions in the timed steps (nano: ~10% more CPU).
const steps = Number(args.steps ?? 5);
const warmup = Number(args.warmup ?? 2);
const threadCounts = (args.threads ?? '1,2').split(',').map(Number);
const rounds = Number(args.rounds ?? 3);
const torchSteps = Number(args['torch-steps'] ?? 6);
const alsoWasm = 'wasm' in args;
const alsoNative = 'native-gemm' in args;
const B = 8;
const T = 128;
const torchScript = fileURLToPath(
  new URL('../../../../shared/bench/torch_gpt_bench.py', import.meta.url),
);
const python = '/usr/bin/python3';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function ours(name, method) {
  const modelConfig = {
    ...TRAINER_MODELS[name],
    contextLength: Math.max(T, TRAINER_MODELS[name].contextLength),
  };
  const config = parseTrainerConfig({
    model: name,
    seqLen: T,
    batchSize: B,
    steps: warmup + steps,
    method,
    ...(method === 'uniform' ? {} : { temperature: { kind: 'constant', r: 0.4 } }),
    lr: { kind: 'constant', lr: 5e-4 },
    evalInterval: 0,
    checkpointInterval: 0,
  });
  const dir = mkdtempSync(join(tmpdir(), 'lrw-bench-'));
  const model = createModel(modelConfig, { seed: 0 });
  const trainer = await Trainer.create({
    config,
    model,
    train: randomSource(modelConfig.vocabSize, B, T),
    domains: ['random'],
    outDir: dir,
    progress: false,
  });
  const times = [];
  const cpuTimes = [];
  for (let i = 0; i < warmup + steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await trainer.trainStep();
    const c = process.cpuUsage(c0);
    if (i >= warmup) {
      times.push(performance.now() - t0);
      cpuTimes.push((c.user + c.system) / 1000);
    }
  }
  trainer.close();
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
  const ms = median(times);
  const cpuMs = median(cpuTimes);
  return {
    ms,
    cpuMs,
    tokensPerSecond: (B * T) / (ms / 1000),
    tokensPerCpuSecond: (B * T) / (cpuMs / 1000),
  };
}

/** The model's forward + backward alone (mean loss, no optimizer): the floor under a trainer step. */
async function modelOnly(name) {
  const modelConfig = {
    ...TRAINER_MODELS[name],
    contextLength: Math.max(T, TRAINER_MODELS[name].contextLength),
  };
  const model = createModel(modelConfig, { seed: 0 });
  const source = randomSource(modelConfig.vocabSize, B, T);
  const times = [];
  for (let i = 0; i < warmup + steps; i++) {
    const batch = await source.next();
    const t0 = performance.now();
    tidy(() => {
      const ids = tensor(batch.tokens, { shape: [B, T], dtype: 'int32' });
      model.perSampleLoss(ids, batch.targets, batch.mask).losses.mean().backward();
    });
    model.zeroGrad();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  model.dispose();
  return { ms: median(times) };
}

// The script under a process-CPU clock: its step times (and so tokens/s) become CPU time.
const CPU_CLOCK =
  'import runpy, sys, time; time.perf_counter = time.process_time; ' +
  'sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")';

function torch(name, threads, clock = 'wall') {
  if (!existsSync(torchScript) || !existsSync(python)) return undefined;
  const c = TRAINER_MODELS[name];
  const r = spawnSync(
    python,
    [
      ...(clock === 'cpu' ? ['-c', CPU_CLOCK] : []),
      torchScript,
      ...['--vocab', c.vocabSize, '--layers', c.nLayers, '--heads', c.nHeads, '--embd', c.dModel],
      ...['--seq', T, '--batch', B, '--threads', threads, '--steps', torchSteps, '--warmup', 2],
    ].map(String),
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        OPENBLAS_NUM_THREADS: String(threads),
        OMP_NUM_THREADS: String(threads),
        MKL_NUM_THREADS: String(threads),
      },
    },
  );
  if (r.status !== 0) {
    console.warn(`torch_gpt_bench.py failed: ${r.stderr.slice(-400)}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

/** Time of the weights alone (host side: B losses in, B weights out), in ms per step. */
function weightsOverhead() {
  const rw = new Reweighter({ strategy: 'linupper', schedule: constantTemperature(0.4) });
  const micro = [
    {
      losses: Float32Array.from({ length: B }, (_, i) => 3 + Math.sin(i)),
      active: new Uint8Array(B).fill(1),
    },
  ];
  const n = 20_000;
  for (let i = 0; i < 1000; i++) stepWeights(rw, 'linupper', micro, i, 'global');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) stepWeights(rw, 'linupper', micro, i, 'global');
  const ms = (performance.now() - t0) / n;
  computeWeights(micro[0].losses, { strategy: 'linupper', r: 0.4 }); // the same function, for the reader
  return ms;
}

const cpu = getBackend('cpu');
const provider = cpuProvider(cpu);
const blas = blasProviderOf(cpu);
const setThreads = (n) => blas?.setThreads(n);
console.log(
  `ours: cpu provider ${provider}${blas ? ` (${blas.config})` : ` (wasm pool: ${wasmKernelsOf(cpu)?.threads} thread(s), LRW_TENSOR_THREADS)`}; PyTorch: one process per thread count, OPENBLAS/OMP/MKL_NUM_THREADS pinned`,
);
console.log(
  `B=${B}, T=${T}; ${rounds} rounds alternating ours and PyTorch; per round the median of ${steps} timed steps after ${warmup} warm-up (ours), of ${torchSteps} after 2 (PyTorch); ${new Date().toISOString()}; load ${os.loadavg()[0].toFixed(1)}`,
);
const weightMs = weightsOverhead();
console.log(
  `weights of one step (stepWeights, B=${B}, linupper): ${(weightMs * 1000).toFixed(1)} us`,
);
const fmt = (xs) =>
  xs.length === 0
    ? 'n/a'
    : `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
const rows = [];
const peerAllocators = new Set();
for (const name of models) {
  setThreads(threadCounts[0]);
  const floor = await modelOnly(name);
  const lin = await ours(name, 'linupper');
  for (const threads of threadCounts) {
    const r = { ours: [], oursCpu: [], torch: [], torchCpu: [], wall: [], cpuRatio: [], uniMs: [] };
    let allocator = 'n/a';
    for (let round = 0; round < rounds; round++) {
      setThreads(threads);
      const uni = await ours(name, 'uniform');
      const tw = torch(name, threads, 'wall');
      const tc = torch(name, threads, 'cpu');
      r.ours.push(uni.tokensPerSecond);
      r.oursCpu.push(uni.tokensPerCpuSecond);
      r.uniMs.push(uni.ms);
      if (tw) {
        allocator = tw.allocator ?? 'unknown';
        peerAllocators.add(allocator);
        r.torch.push(tw.tokens_per_s);
        r.wall.push(uni.tokensPerSecond / tw.tokens_per_s);
      }
      if (tc) {
        r.torchCpu.push(tc.tokens_per_s);
        r.cpuRatio.push(uni.tokensPerCpuSecond / tc.tokens_per_s);
      }
      console.log(
        `  ${name} ${threads}t round ${round + 1}: ours ${uni.tokensPerSecond.toFixed(0)} tok/s, ${uni.tokensPerCpuSecond.toFixed(0)} tok/CPU-s; ` +
          `PyTorch ${tw?.tokens_per_s ?? 'n/a'} tok/s, ${tc?.tokens_per_s ?? 'n/a'} tok/CPU-s (${allocator}); load ${os.loadavg()[0].toFixed(1)}`,
      );
    }
    const row = {
      model: name,
      threads,
      provider,
      'ours tok/s': median(r.ours).toFixed(0),
      'torch tok/s': r.torch.length ? median(r.torch).toFixed(0) : 'n/a',
      'ours / torch (wall)': fmt(r.wall),
      'ours tok/CPU-s': median(r.oursCpu).toFixed(0),
      'torch tok/CPU-s': r.torchCpu.length ? median(r.torchCpu).toFixed(0) : 'n/a',
      'ours / torch (CPU-s)': fmt(r.cpuRatio),
      'torch allocator': allocator.startsWith('jemalloc')
        ? allocator
        : `${allocator} (NOT jemalloc: ratio overstates us)`,
      ...(threads === threadCounts[0] && {
        'linupper / uniform step time': (lin.ms / median(r.uniMs)).toFixed(3),
        'model fwd+bwd share of a step': `${((100 * floor.ms) / median(r.uniMs)).toFixed(1)}%`,
        'weights share of a step': `${((100 * weightMs) / median(r.uniMs)).toFixed(4)}%`,
      }),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
console.table(rows);
console.log('ratios: median over the rounds (min-max)');
if ([...peerAllocators].some((a) => !a.startsWith('jemalloc'))) {
  console.warn(
    'PyTorch did not run under jemalloc (apt-get install -y libjemalloc2): its per-step buffers are ' +
      'mapped afresh every step, so the ratios above overstate us.',
  );
}
console.log(`end ${new Date().toISOString()}; load ${os.loadavg()[0].toFixed(1)}`);

if (alsoNative && provider !== 'native') {
  // The native gemm (a machine with a C compiler but no libopenblas): the same bench in a child.
  const argv = process.argv.slice(2).filter((a) => a !== '--wasm' && a !== '--native-gemm');
  console.log('\n--- the native gemm (LRW_TENSOR_GEMM=native) ---');
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, LRW_TENSOR_GEMM: 'native', LRW_TENSOR_BLAS: 'auto' },
  });
  if (child.status !== 0) process.exitCode = child.status ?? 1;
}

if (alsoWasm && provider !== 'wasm') {
  // The wasm path (a machine without libopenblas): the same bench in a child with the gemm in wasm.
  // The wasm gemm's worker pool takes its size when the backend is made: one child per thread
  // count, with LRW_TENSOR_THREADS.
  const argv = process.argv.slice(2).filter((a) => a !== '--wasm' && a !== '--native-gemm');
  const i = argv.indexOf('--threads');
  if (i >= 0) argv.splice(i, 2);
  for (const threads of threadCounts) {
    console.log(`\n--- the wasm path (LRW_TENSOR_BLAS=off), ${threads} thread(s) ---`);
    const child = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), ...argv, '--threads', String(threads)],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          LRW_TENSOR_BLAS: 'off',
          LRW_TENSOR_GEMM: 'auto',
          LRW_TENSOR_THREADS: String(threads),
        },
      },
    );
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  }
}

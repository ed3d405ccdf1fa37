#!/usr/bin/env node
// Data-parallel scaling on MPI, in one run: tokens/s of training (linupper, seq 64) with one
// process of global batch 8 against 2 ranks of 4 (mpirun -np 2, 1 OpenBLAS thread per process),
// alternated and repeated; prints the speedup (2 ranks / 1 process) per model, for 2 ranks
// with the gradient buckets overlapped with backward (the default) and with one flat
// all-reduce after backward (--no-overlap), and the share of rank 0's time its main thread
// waits on communication. Scaling efficiency is speedup / 2. Needs mpirun and the @lrw/mpi
// addon (skips without).
// Its peer, interleaved with it in the same run: PyTorch DistributedDataParallel over gloo
// (bench/torch_ddp_bench.py: the same model, step, batches and threads, 1 plain process against
// 2 ranks on localhost), skipped with the reason when /usr/bin/python3 has no torch. Before
// timing each model, the peer's update is checked (torch_ddp_bench.py --verify: one DDP step on
// 2 ranks x 4 gives the parameters of one plain step on the 8 rows).
//
//   node bench/mpi-scaling.mjs [--models nano,micro] [--steps 32] [--warmup 20] [--repeats 3]
//                              [--no-torch]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preset } from '@lrw/models';
import { findMpirun, mpiAvailability, mpirunArgs } from '@lrw/mpi';

const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const models = opt('models', 'nano,micro').split(',');
const steps = opt('steps', '32');
// untimed steps first: V8 compiles the hot JavaScript during the first ~10-20 steps (on a spare
// core where one is free, on the rank's own core under mpirun's binding), which a long run
// does not pay; PyTorch gets the same warm-up
const warmup = opt('warmup', '20');
const repeats = Number(opt('repeats', '3'));
const mpirun = findMpirun();
const mpi = mpiAvailability();
if (!mpirun || !mpi.available) {
  console.log(`mpi-scaling: skipped (${mpirun ? mpi.reason : 'no mpirun'})`);
  process.exit(0);
}
const rank = fileURLToPath(new URL('./mpi-scaling-rank.mjs', import.meta.url));
const lrw = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const corpus = fileURLToPath(new URL('../test/cli/fixtures/tiny-corpus/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lrw-mpi-scaling-'));
const data = join(root, 'data');
execFileSync(process.execPath, [
  lrw,
  'prepare',
  '--source',
  corpus,
  '--out',
  data,
  '--tokenizer',
  'byte',
  '--workers',
  '0',
  '--validation-documents',
  '2',
  '-q',
]);
let n = 0;
const once = (np, model, reduction = 'overlap') => {
  const out = join(root, `run-${n++}`);
  const argv = [rank, data, out, model, String(8 / np), steps, warmup, reduction];
  const text =
    np === 1
      ? execFileSync(process.execPath, argv, { encoding: 'utf8' })
      : execFileSync(mpirun, [...mpirunArgs({ np }), process.execPath, ...argv], {
          encoding: 'utf8',
        });
  return JSON.parse(text.trim().split('\n').at(-1));
};
const python = '/usr/bin/python3';
const torchScript = fileURLToPath(new URL('./torch_ddp_bench.py', import.meta.url));
/** One PyTorch run: {tokensPerSecond} or {skipped: reason}; with `verify`, the --verify check. */
const torchOnce = (np, model, verify = false) => {
  const c = preset(`gpt2-${model}`);
  const r = spawnSync(
    python,
    [
      torchScript,
      ...(verify ? ['--verify'] : []),
      ...['--world', np, '--batch', 8 / np, '--steps', steps, '--warmup', warmup],
      ...['--vocab', c.vocabSize, '--layers', c.nLayers, '--heads', c.nHeads],
      ...['--embd', c.dModel, '--context', c.contextLength, '--seq', 64, '--threads', 1],
    ].map(String),
    { encoding: 'utf8' },
  );
  if (r.error) return { skipped: `${python}: ${r.error.message}` };
  if (r.status !== 0) throw new Error(`torch_ddp_bench.py failed: ${r.stderr.slice(-600)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
};
let torchSkip = process.argv.includes('--no-torch') ? '--no-torch' : undefined;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cell = (x, w, digits = 0) => (x === undefined ? '-' : x.toFixed(digits)).padStart(w);
console.log(
  `data-parallel scaling, seq 64, global batch 8, ${steps} timed steps after ${warmup} warm-up, median of ${repeats} alternated repeats`,
);
console.log(
  'model   ours 1 process tok/s   ours 2 ranks tok/s   ours speedup   rank 0 waits on comm   ours 2 flat tok/s   flat speedup   flat waits   DDP 1 process tok/s   DDP 2 ranks tok/s   DDP speedup',
);
for (const model of models) {
  if (!torchSkip) {
    // the peer's update checked first: one DDP step on 2 ranks x 4 = one plain step on 8
    const v = torchOnce(2, model, true);
    if (v.skipped) torchSkip = v.skipped;
    else {
      console.log(
        `${model}: DDP check, one step on 2 ranks x 4 against one plain step on 8: max |gradient difference| ${v.maxAbsGradDiff.toExponential(2)} (max |gradient| ${v.maxAbsGrad.toExponential(2)}), max |parameter difference| after the AdamW step ${v.maxAbsParamDiffAfterStep.toExponential(2)}`,
      );
    }
  }
  const runs = { one: [], two: [], comm: [], flat: [], flatComm: [], tOne: [], tTwo: [] };
  for (let r = 0; r < repeats; r++) {
    runs.one.push(once(1, model).tokensPerSecond);
    const t = once(2, model);
    runs.two.push(t.tokensPerSecond);
    runs.comm.push(t.commShare);
    const f = once(2, model, 'flat');
    runs.flat.push(f.tokensPerSecond);
    runs.flatComm.push(f.commShare);
    for (const [np, into] of [
      [1, runs.tOne],
      [2, runs.tTwo],
    ]) {
      if (torchSkip) continue;
      const p = torchOnce(np, model);
      if (p.skipped) torchSkip = p.skipped;
      else into.push(p.tokensPerSecond);
    }
  }
  const one = median(runs.one);
  const two = median(runs.two);
  const flat = median(runs.flat);
  const tOne = runs.tOne.length ? median(runs.tOne) : undefined;
  const tTwo = runs.tTwo.length ? median(runs.tTwo) : undefined;
  console.log(
    `${model.padEnd(6)}  ${cell(one, 22)}   ${cell(two, 18)}   ${cell(two / one, 12, 2)}   ${cell(100 * median(runs.comm), 19)}%   ${cell(flat, 17)}   ${cell(flat / one, 12, 2)}   ${cell(100 * median(runs.flatComm), 9)}%   ${cell(tOne, 19)}   ${cell(tTwo, 17)}   ${cell(tTwo && tTwo / tOne, 11, 2)}`,
  );
  console.log(
    `        each run (ours 1 / ours 2 / ours 2 flat / DDP 1 / DDP 2): ${[runs.one, runs.two, runs.flat, runs.tOne, runs.tTwo].map((xs) => xs.map((x) => x.toFixed(0)).join(',') || '-').join(' / ')}`,
  );
}
if (torchSkip) console.log(`PyTorch DDP peer: skipped (${torchSkip})`);
rmSync(root, { recursive: true, force: true });

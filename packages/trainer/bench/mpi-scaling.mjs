#!/usr/bin/env node
// Data-parallel scaling on MPI, in one run: tokens/s of training (linupper, seq 64) with one
// process of global batch 8 against 2 ranks of 4 (mpirun -np 2, 1 OpenBLAS thread per process),
// alternated and repeated; prints the speedup (2 ranks / 1 process) per model. Scaling
// efficiency is speedup / 2. Needs mpirun and the @lrw/mpi addon (skips without).
//
//   node bench/mpi-scaling.mjs [--models nano,micro] [--steps 8] [--repeats 2]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMpirun, mpiAvailability, mpirunArgs } from '@lrw/mpi';

const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const models = opt('models', 'nano,micro').split(',');
const steps = opt('steps', '8');
const warmup = '2';
const repeats = Number(opt('repeats', '2'));
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
const once = (np, model) => {
  const out = join(root, `run-${n++}`);
  const argv = [rank, data, out, model, String(8 / np), steps, warmup];
  const text =
    np === 1
      ? execFileSync(process.execPath, argv, { encoding: 'utf8' })
      : execFileSync(mpirun, [...mpirunArgs({ np }), process.execPath, ...argv], {
          encoding: 'utf8',
        });
  return JSON.parse(text.trim().split('\n').at(-1));
};
console.log(
  `data-parallel scaling, seq 64, global batch 8, ${steps} timed steps, best of ${repeats}`,
);
console.log(
  'model   1 process tok/s   2 ranks tok/s   speedup   efficiency   rank 0 time in MPI calls',
);
for (const model of models) {
  let one = 0;
  let two = { tokensPerSecond: 0, commShare: 0 };
  for (let r = 0; r < repeats; r++) {
    one = Math.max(one, once(1, model).tokensPerSecond);
    const t = once(2, model);
    if (t.tokensPerSecond > two.tokensPerSecond) two = t;
  }
  const speedup = two.tokensPerSecond / one;
  console.log(
    `${model.padEnd(6)}  ${one.toFixed(0).padStart(17)}   ${two.tokensPerSecond.toFixed(0).padStart(13)}   ${speedup.toFixed(2).padStart(7)}   ${(speedup / 2).toFixed(2).padStart(10)}   ${(100 * two.commShare).toFixed(0).padStart(23)}%`,
  );
}
rmSync(root, { recursive: true, force: true });

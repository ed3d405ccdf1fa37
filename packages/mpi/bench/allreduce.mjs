#!/usr/bin/env node
// Allreduce bandwidth of the @lrw/mpi binding against Open MPI's own from C, in one run:
// 2 ranks on this machine, float32 sums in place, 1 KiB to 64 MiB. Prints a table of bus
// bandwidth (2 (p - 1) / p x bytes / time, the usual allreduce convention) and the ratio
// binding / C for each size. Needs mpirun, mpicc and the built addon.
//
//   node bench/allreduce.mjs [--tcp] [--np 2]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMpirun, mpirunArgs } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const tcp = args.includes('--tcp');
const np = Number(args[args.indexOf('--np') + 1] ?? 2) || 2;
const mpirun = findMpirun();
if (!mpirun) {
  console.log('allreduce bench: skipped (no mpirun; apt-get install openmpi-bin libopenmpi-dev)');
  process.exit(0);
}
const sizes = [];
for (let b = 1024; b <= 64 << 20; b *= 4) sizes.push(b);
const dir = mkdtempSync(join(tmpdir(), 'lrw-mpi-bench-'));
const exe = join(dir, 'allreduce');
execFileSync('mpicc', ['-O2', join(here, 'allreduce.c'), '-o', exe]);
const run = (program) =>
  execFileSync(mpirun, [...mpirunArgs({ np, tcp }), ...program, ...sizes.map(String)], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
// alternate the two, three times, and keep each one's best time per size
const best = { c: new Map(), js: new Map() };
for (let round = 0; round < 3; round++) {
  for (const [key, program] of [
    ['c', [exe]],
    ['js', [process.execPath, join(here, 'allreduce-rank.mjs')]],
  ]) {
    for (const r of run(program)) {
      const per = r.seconds / r.reps;
      best[key].set(r.bytes, Math.min(best[key].get(r.bytes) ?? Infinity, per));
    }
  }
}
rmSync(dir, { recursive: true, force: true });
const busBw = (bytes, s) => (((2 * (np - 1)) / np) * (bytes / s)) / 2 ** 30;
const label = (b) => (b >= 1 << 20 ? `${b >> 20} MiB` : `${b >> 10} KiB`);
console.log(
  `allreduce, ${np} ranks${tcp ? ', TCP (--mca btl tcp,self)' : ''}, float32 sum in place`,
);
console.log('size      C GiB/s   binding GiB/s   binding / C');
for (const b of sizes) {
  const c = busBw(b, best.c.get(b));
  const js = busBw(b, best.js.get(b));
  console.log(
    `${label(b).padEnd(8)}  ${c.toFixed(3).padStart(7)}   ${js.toFixed(3).padStart(13)}   ${(js / c).toFixed(2).padStart(11)}`,
  );
}

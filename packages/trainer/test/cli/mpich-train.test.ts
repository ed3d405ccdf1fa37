import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { addonPath } from '@lrw/mpi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareByte } from './child-cli.js';
import { lrw } from './cli-harness.js';
import { expectSameTraining, trainArgs } from './mpi-compare.js';
import { mpirunLrw, mpiSkipReason } from './mpi-run.js';

// `lrw train` on MPICH (Hydra's mpiexec), beside the Open MPI the other multi-rank tests use:
// the @lrw/mpi addon built with MPICH's compiler wrapper into a folder of its own, loaded
// through LRW_MPI_ADDON, must train like one process; and the Open MPI addon started by MPICH's
// launcher must be refused with a message, not train as two separate worlds of one.
const has = (name: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const skip =
  mpiSkipReason() ??
  (has('mpirun.mpich') && has('mpicc.mpich')
    ? undefined
    : 'no MPICH beside Open MPI (apt-get install mpich libmpich-dev: mpirun.mpich, mpicc.mpich)');
const root = mkdtempSync(join(tmpdir(), 'lrw-mpich-train-'));
const data = join(root, 'data');
const addon = join(root, 'mpich', 'lrw_mpi.node');
const STEPS = 12;
const train = (out: string, batch: number) =>
  trainArgs(data, out, STEPS, batch, ['--method', 'linupper']);

beforeAll(async () => {
  if (skip) return;
  const script = join(
    dirname(createRequire(import.meta.url).resolve('@lrw/mpi/package.json')),
    'scripts',
    'build-native.mjs',
  );
  execFileSync(process.execPath, [script, '--strict', '--out', addon], {
    env: { ...process.env, MPICC: 'mpicc.mpich' },
    stdio: 'pipe',
  });
  const p = await prepareByte(data);
  expect(p.code, p.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(skip !== undefined)(
  `lrw train on MPICH${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('2 ranks x batch 4 train like 1 process x batch 8 (linupper)', async () => {
      const r1 = await lrw(...train(join(root, 'one'), 8));
      expect(r1.code, r1.stderr).toBe(0);
      const r2 = await mpirunLrw(2, train(join(root, 'two'), 4), {
        mpirun: 'mpirun.mpich',
        env: { LRW_MPI_ADDON: addon },
      }).done;
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stderr).toContain('2 ranks of batch 4: a global batch of 8 samples');
      // no more CPU threads than cores: each rank's share (LRW_TENSOR_THREADS when unset)
      expect(r2.stderr).toMatch(/note: \d+ CPU thread\(s\) per rank: /);
      await expectSameTraining(join(root, 'one'), join(root, 'two'), STEPS);
    }, 90_000);

    it("the Open MPI addon under MPICH's launcher: a message naming both, no run, no stack trace", async () => {
      const r = await mpirunLrw(2, train(join(root, 'mismatch'), 4), {
        mpirun: 'mpirun.mpich',
        env: { LRW_MPI_ADDON: addonPath() },
      }).done;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('an MPICH-style mpiexec (PMI) as rank');
      expect(r.stderr).toContain('the library is not connected to the launcher');
      expect(r.stderr).toMatch(/HINT: .*MPICC=/);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    }, 60_000);
  },
);

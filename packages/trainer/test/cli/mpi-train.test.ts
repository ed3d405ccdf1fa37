import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../src/checkpoint-store.js';
import { runPaths } from '../../src/run-directory.js';
import { metricsFingerprint, prepareByte, spawnLrw, trainLines, waitFor } from './child-cli.js';
import { lrw } from './cli-harness.js';
import { expectSameTraining, trainArgs, trainRecords } from './mpi-compare.js';
import { childPids, mpirunLrw, mpiSkipReason } from './mpi-run.js';

// Data parallelism on MPI, as users run it: `mpirun -np 2 lrw train` against one process with
// the global batch (spec section 5: the same global batches, globally normalized weights,
// summed gradients), a rank killed and the run resumed, and a rank that fails.
const skip = mpiSkipReason();
const root = mkdtempSync(join(tmpdir(), 'lrw-mpi-train-'));
const data = join(root, 'data');
const STEPS = 20;
const common = (out: string, batch: number, extra: string[] = []) =>
  trainArgs(data, out, STEPS, batch, extra);

beforeAll(async () => {
  if (skip) return;
  const p = await prepareByte(data);
  expect(p.code, p.stderr).toBe(0);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const trains = trainRecords;

const KILL_FLAGS = ['--method', 'linupper', '--checkpoint-interval', '4'];
let straight: Promise<string> | undefined;
/** The uninterrupted 2-rank run that the stopped and resumed ones must equal. */
function straightRun(): Promise<string> {
  straight ??= (async () => {
    const dir = join(root, 'straight');
    const s = await mpirunLrw(2, common(dir, 4, KILL_FLAGS)).done;
    expect(s.code, s.stderr).toBe(0);
    return dir;
  })();
  return straight;
}

describe.skipIf(skip !== undefined)(
  `lrw train on 2 MPI ranks${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cases = [
      { method: 'uniform', accumulation: 1, tcp: false },
      { method: 'linupper', accumulation: 1, tcp: false },
      { method: 'uniform', accumulation: 2, tcp: false },
      { method: 'linupper', accumulation: 2, tcp: true, timeout: true },
    ] as const;
    for (const { method, accumulation, tcp, timeout } of cases as readonly {
      method: string;
      accumulation: number;
      tcp: boolean;
      timeout?: boolean;
    }[]) {
      it(`2 ranks x batch 4 train like 1 process x batch 8: ${method}, ${accumulation} micro-batch${accumulation > 1 ? 'es' : ''}${tcp ? ', over TCP (--mca btl tcp,self)' : ''}`, async () => {
        const name = `${method}-${accumulation}${tcp ? '-tcp' : ''}`;
        const flags = ['--method', method, '--grad-accumulation', String(accumulation)];
        // the reference in this process (the same `lrw train` code, without a child's start-up)
        const r1 = await lrw(...common(join(root, `${name}-one`), 8, flags));
        expect(r1.code, r1.stderr).toBe(0);
        // (the collective timeout, when set, must not disturb a healthy run)
        const two = mpirunLrw(
          2,
          common(join(root, `${name}-two`), 4, [
            ...flags,
            ...(timeout ? ['--mpi-timeout', '120'] : []),
          ]),
          { tcp },
        );
        const r2 = await two.done;
        expect(r2.code, r2.stderr).toBe(0);
        // rank 0 alone reports: one results table, one note on the global batch
        expect(r2.stdout.match(/run directory:/g)).toHaveLength(1);
        expect(r2.stderr).toContain('2 ranks of batch 4: a global batch of 8 samples');
        // no more CPU threads than cores: each rank's share (LRW_TENSOR_THREADS when unset)
        expect(r2.stderr).toMatch(/note: \d+ CPU thread\(s\) per rank: /);
        await expectSameTraining(join(root, `${name}-one`), join(root, `${name}-two`), STEPS);
        expect(readFileSync(runPaths(join(root, `${name}-two`)).history, 'utf8')).toContain(
          '"event":"start","step":0,"worldSize":2',
        );
      }, 60_000);
    }

    it('where MPI provides less than MPI_THREAD_SERIALIZED, the gradients go in one flat all-reduce (said once) and train alike', async () => {
      const flags = ['--method', 'linupper', '--bucket-mb', '0.05'];
      const one = join(root, 'funneled-one');
      const r1 = await lrw(...common(one, 8, flags));
      expect(r1.code, r1.stderr).toBe(0);
      const two = join(root, 'funneled-two');
      const r2 = await mpirunLrw(2, common(two, 4, flags), {
        env: { LRW_MPI_THREAD_LEVEL: 'funneled' },
      }).done;
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stderr.match(/not overlapped with it/g)).toHaveLength(1);
      expect(r2.stderr).toContain(
        'the gradients are summed in one all-reduce after backward, not overlapped with it: allReduceSumAsync needs MPI_THREAD_SERIALIZED, but Open MPI',
      );
      await expectSameTraining(one, two, STEPS);
    }, 60_000);

    it('a rank killed with SIGKILL ends the job naming it; --resume on 2 ranks gives the uninterrupted run', async () => {
      const flags = KILL_FLAGS;
      const straight = await straightRun();

      const killed = join(root, 'kill-two');
      const run = mpirunLrw(2, common(killed, 4, flags));
      await waitFor(() => trainLines(killed) >= 6, 'step 6 of the 2-rank run');
      const ranks = childPids(run.pid);
      expect(ranks.length).toBeGreaterThanOrEqual(2);
      process.kill(ranks[ranks.length - 1]!, 'SIGKILL');
      const k = await run.done;
      await waitFor(() => ranks.every((pid) => !alive(pid)), 'the ranks to exit');
      expect(k.code).not.toBe(0);
      // mpirun names the rank ("process rank 1 with PID ... exited on signal 9"), unless its
      // help system fails to print during teardown (then it logs an ORTE_ERROR_LOG line)
      expect(k.stderr).toMatch(
        /rank \d+ with PID \d+ on node \S+ exited on signal 9|ORTE_ERROR_LOG/,
      );
      expect(k.ms).toBeLessThan(30_000);
      expect(trainLines(killed)).toBeLessThan(STEPS);

      // the same world size: bit-identical to the uninterrupted run
      const resumed = await mpirunLrw(2, [...common(killed, 4, flags), '--resume']).done;
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(metricsFingerprint(killed)).toEqual(metricsFingerprint(straight));

      // a global batch that differs is refused, saying which batch size fits
      const wrong = await spawnLrw([...common(killed, 4, flags), '--resume', '--steps', '24']).done;
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('global batch of 8 samples (batchSize 4 x 2 ranks)');
      expect(wrong.stderr).toContain('--batch-size 8 on 1 rank');
    }, 120_000);

    it('SIGUSR2 to mpirun (forwarded to every rank) stops them after the same step with a checkpoint; it resumes on 1 process x 8', async () => {
      const straight = await straightRun();
      const dir = join(root, 'stopped');
      const run = mpirunLrw(2, common(dir, 4, KILL_FLAGS));
      await waitFor(() => trainLines(dir) >= 5, 'step 5 of the 2-rank run');
      run.kill('SIGUSR2');
      const r = await run.done;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        /lrw train: Training stopped after step \d+ of 20 \(SIGUSR2\): (checkpoint written|the checkpoint of step \d+ is saved)/,
      );
      expect(r.stderr).toContain(`continue it with: mpirun -np 2 lrw train --out ${dir} --resume`);
      expect(r.stderr).not.toMatch(/rank 1 of 2/);
      const stoppedAt = trainLines(dir);
      expect(stoppedAt).toBeLessThan(STEPS);
      const c = await new CheckpointStore(runPaths(dir).checkpoints).loadLatest();
      expect(c?.step).toBe(stoppedAt);
      // resumed on another world size with the same global batch: 1 process x 8
      const single = await spawnLrw([...common(dir, 8, KILL_FLAGS), '--resume']).done;
      expect(single.code, single.stderr).toBe(0);
      const a = trains(straight);
      const b = trains(dir);
      expect(b).toHaveLength(STEPS);
      a.forEach((x, i) => {
        expect(b[i]!.loss).toBeCloseTo(x.loss, 4);
        expect(b[i]!.tokens).toBe(x.tokens);
      });
      expect(readFileSync(runPaths(dir).history, 'utf8')).toMatch(
        /"worldSize":\{"from":2,"to":1\}/,
      );
    }, 120_000);

    it('lrw compare --ranks 2 trains each method on 2 ranks of half the batch, with the one-process table', async () => {
      const args = (out: string) => [
        'compare',
        '--data',
        data,
        '--out',
        out,
        '--methods',
        'uniform,linupper',
        '--steps',
        '6',
        '--seq-len',
        '16',
        '--batch-size',
        '4',
        '--eval-batches',
        '1',
        '--no-report',
      ];
      const one = await lrw(...args(join(root, 'compare-one')));
      expect(one.code, one.stderr).toBe(0);
      const two = await lrw(...args(join(root, 'compare-two')), '--ranks', '2');
      expect(two.code, two.stderr).toBe(0);
      expect(two.stderr).toContain('each on 2 MPI ranks');
      const cells = (dir: string) =>
        (
          JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
            runs: {
              label: string;
              config: { batchSize: number };
              domains: Record<string, { perplexity: number }>;
            }[];
          }
        ).runs;
      const a = cells(join(root, 'compare-one'));
      const b = cells(join(root, 'compare-two'));
      expect(b.map((r) => r.label)).toEqual(['uniform', 'linupper']);
      b.forEach((r, i) => {
        expect(r.config.batchSize).toBe(2); // per rank
        for (const [d, v] of Object.entries(a[i]!.domains)) {
          expect(r.domains[d]!.perplexity).toBeCloseTo(v.perplexity, 2);
        }
      });
      expect(
        (await lrw('compare', ...args(join(root, 'compare-odd')).slice(1), '--ranks', '3')).stderr,
      ).toContain('--batch-size 4 is not a multiple of 3');
    }, 120_000);

    it('a rank that fails makes every rank exit within seconds, naming it', async () => {
      const out = join(root, 'throws');
      const child = fileURLToPath(new URL('./fixtures/mpi-rank-throws.mjs', import.meta.url));
      const r = await mpirunLrw(2, [data, out], { program: child }).done;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('lrw train (rank 1 of 2): rank 1 fails at step 3 on purpose');
      // (Open MPI's own "MPI_ABORT was invoked on rank 1" banner is usually there too, but
      // its help system sometimes fails to print it while the job is torn down)
      expect(trainLines(out)).toBe(2);
      expect(r.ms).toBeLessThan(30_000);
      // rank 0 wrote the steps before, and the checkpoint of step 2 stays loadable
      const c = await new CheckpointStore(runPaths(out).checkpoints).loadLatest();
      expect(c?.step).toBe(2);
    }, 60_000);

    it('a rank that fails in the middle of backward, with gradient buckets in flight, makes every rank exit within seconds, naming it', async () => {
      const out = join(root, 'throws-in-backward');
      const child = fileURLToPath(new URL('./fixtures/mpi-rank-throws.mjs', import.meta.url));
      const r = await mpirunLrw(2, [data, out, 'backward'], { program: child }).done;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'lrw train (rank 1 of 2): rank 1 fails in backward at step 3 on purpose',
      );
      expect(trainLines(out)).toBe(2);
      expect(r.ms).toBeLessThan(30_000);
      const c = await new CheckpointStore(runPaths(out).checkpoints).loadLatest();
      expect(c?.step).toBe(2);
    }, 60_000);

    it('--mpi-timeout: a rank stuck (not dead) makes the others end the job within the limit', async () => {
      const out = join(root, 'hangs');
      const child = fileURLToPath(new URL('./fixtures/mpi-rank-throws.mjs', import.meta.url));
      const r = await mpirunLrw(2, [data, out, 'hang'], { program: child }).done;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        /lrw: rank 0 of 2 waited more than 3 s in (allGather|allReduceSum) for the other ranks: one of them is stuck/,
      );
      expect(r.ms).toBeLessThan(60_000);
      const c = await new CheckpointStore(runPaths(out).checkpoints).loadLatest();
      expect(c?.step).toBe(2);
    }, 90_000);
  },
);

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rankThreads, startDistributed } from '../../src/cli/distributed.js';
import { CliError } from '../../src/cli/io.js';
import { prepareByte } from './child-cli.js';
import { lrw } from './cli-harness.js';

// Where MPI is absent (here: the addon pointed at a file that does not exist), asking for it
// is a user error that says what to install; a process no launcher started stays single.
const root = mkdtempSync(join(tmpdir(), 'lrw-distributed-'));
const data = join(root, 'data');
const saved = process.env.LRW_MPI_ADDON;
beforeAll(async () => {
  const p = await prepareByte(data);
  expect(p.code, p.stderr).toBe(0);
}, 60_000);
afterEach(() => {
  if (saved === undefined) delete process.env.LRW_MPI_ADDON;
  else process.env.LRW_MPI_ADDON = saved;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lrw train --distributed', () => {
  it('mpi without MPI: a message that says what to install, exit 1, nothing trained', async () => {
    process.env.LRW_MPI_ADDON = join(root, 'missing', 'lrw_mpi.node');
    const out = join(root, 'run');
    const r = await lrw(
      'train',
      '--data',
      data,
      '--out',
      out,
      '--steps',
      '2',
      '--distributed',
      'mpi',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'lrw train: --distributed mpi asks for MPI, but MPI is not available',
    );
    expect(r.stderr).toContain('HINT: install MPI and build the addon');
    expect(r.stderr).toContain('apt-get install openmpi-bin libopenmpi-dev');
    expect(r.stderr).toContain('or train in one process with --distributed none.');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('auto: one process when no launcher started it; MPI when mpirun did (naming the rank)', () => {
    const io = { stderr: () => {} };
    const single = startDistributed('auto', io, {});
    expect([single.collective, single.rank, single.worldSize]).toEqual([undefined, 0, 1]);
    expect(
      startDistributed('auto', io, { OMPI_COMM_WORLD_SIZE: '1', OMPI_COMM_WORLD_RANK: '0' })
        .collective,
    ).toBeUndefined();
    expect(
      startDistributed('none', io, { OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '1' })
        .worldSize,
    ).toBe(1);
    process.env.LRW_MPI_ADDON = join(root, 'missing', 'lrw_mpi.node');
    let caught: unknown;
    try {
      startDistributed('auto', io, { SLURM_STEP_NUM_TASKS: '4', SLURM_PROCID: '3' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).message).toMatch(
      /^this process is rank 3 of 4 started by srun, but MPI is not available/,
    );
  });
});

describe('CPU threads per rank (LRW_TENSOR_THREADS unset)', () => {
  it('a rank the launcher bound to fewer cores than the machine has keeps those cores', () => {
    expect(rankThreads({ OMPI_COMM_WORLD_LOCAL_SIZE: '2' }, 1, 2)).toEqual({
      threads: 1,
      why: 'the launcher bound each rank to 1 of 2 cores',
    });
    expect(rankThreads({ OMPI_COMM_WORLD_LOCAL_SIZE: '4' }, 8, 32).threads).toBe(8);
  });

  it("an unbound rank gets the machine's cores shared out among the ranks on it", () => {
    expect(rankThreads({ MPI_LOCALNRANKS: '2' }, 2, 2)).toEqual({
      threads: 1,
      why: '2 cores shared by 2 ranks on this machine',
    });
    expect(rankThreads({ OMPI_COMM_WORLD_LOCAL_SIZE: '3' }, 16, 16).threads).toBe(5);
    // more ranks than cores: one thread each, never zero
    expect(rankThreads({ OMPI_COMM_WORLD_LOCAL_SIZE: '4' }, 2, 2).threads).toBe(1);
  });

  it('without the number of ranks on the machine: every usable core', () => {
    expect(rankThreads({}, 4, 4)).toEqual({
      threads: 4,
      why: '4 cores, the number of ranks on this machine unknown',
    });
    expect(rankThreads({ MPI_LOCALNRANKS: 'x' }, 4, 4).threads).toBe(4);
  });
});

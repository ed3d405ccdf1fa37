import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MpiError } from './mpi-error.js';
import { checkLauncher } from './mpi-world.js';
import { findMpirun, mpirunArgs, mpirunFlavour } from './mpirun.js';

const dir = mkdtempSync(join(tmpdir(), 'lrw-mpirun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake launcher, dir/<name>/mpirun, that prints `text` for --version (first lines of the real ones). */
function fakeMpirun(name: string, text: string): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, 'mpirun');
  writeFileSync(path, `#!/bin/sh\ncat <<'END'\n${text}\nEND\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('mpirunFlavour', () => {
  it("tells Open MPI's mpirun from a Hydra mpiexec (MPICH, Intel MPI) by --version", () => {
    const ompi = fakeMpirun(
      'ompi',
      'mpirun (Open MPI) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/',
    );
    const hydra = fakeMpirun(
      'hydra',
      'HYDRA build details:\n    Version:                                 4.0.2',
    );
    const intel = fakeMpirun('intel', 'Intel(R) MPI Library for Linux* OS, Version 2021.10');
    expect(mpirunFlavour(ompi)).toBe('open-mpi');
    expect(mpirunFlavour(hydra)).toBe('hydra');
    expect(mpirunFlavour(intel)).toBe('hydra');
    // the one on PATH is found by findMpirun
    expect(findMpirun({ PATH: join(dir, 'hydra') })).toBe(hydra);
  });

  it('names the launcher it cannot classify or run', () => {
    const other = fakeMpirun('other', 'some launcher 1.0');
    expect(() => mpirunFlavour(other)).toThrow(
      /neither Open MPI's mpirun nor a Hydra mpiexec.*some launcher 1\.0/,
    );
    expect(() => mpirunFlavour(join(dir, 'missing', 'mpirun'))).toThrow(/--version failed/);
  });
});

describe('mpirunArgs', () => {
  it('Open MPI: oversubscription, root where needed, TCP through --mca btl', () => {
    const root = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
    expect(mpirunArgs({ np: 2, flavour: 'open-mpi' })).toEqual([
      '--oversubscribe',
      ...root,
      '-np',
      '2',
    ]);
    expect(mpirunArgs({ np: 3, tcp: true, flavour: 'open-mpi' })).toEqual([
      '--oversubscribe',
      ...root,
      '--mca',
      'btl',
      'tcp,self',
      '-np',
      '3',
    ]);
  });

  it('Hydra: no Open MPI options; TCP through the transports it passes every rank', () => {
    const ucx = ['-genv', 'UCX_ERROR_SIGNALS', '', '-genv', 'UCX_MEM_EVENTS', 'no'];
    expect(mpirunArgs({ np: 2, flavour: 'hydra' })).toEqual([...ucx, '-np', '2']);
    expect(mpirunArgs({ np: 2, tcp: true, flavour: 'hydra' })).toEqual([
      ...ucx,
      '-genv',
      'UCX_TLS',
      'tcp,self',
      '-genv',
      'FI_PROVIDER',
      'tcp',
      '-np',
      '2',
    ]);
  });
});

describe('checkLauncher', () => {
  const world = { size: 1, rank: 0, library: 'Open MPI v4.1.4, package: Debian' };
  it('accepts a process no launcher started, and a world that matches the launcher', () => {
    expect(() => checkLauncher(world, {})).not.toThrow();
    expect(() =>
      checkLauncher({ ...world, size: 2, rank: 1 }, { PMI_SIZE: '2', PMI_RANK: '1' }),
    ).not.toThrow();
  });

  it('refuses a world of one under a launcher of several ranks, naming both and the fix', () => {
    let error: unknown;
    try {
      checkLauncher(world, { PMI_SIZE: '2', PMI_RANK: '1' });
    } catch (e) {
      error = e;
    }
    expect(MpiError.isInstance(error)).toBe(true);
    const e = error as MpiError;
    expect(e.code).toBe('launcher-mismatch');
    expect(e.message).toContain('an MPICH-style mpiexec (PMI) as rank 1 of 2');
    expect(e.message).toContain('(Open MPI v4.1.4, package: Debian) sees rank 0 of 1');
    expect(e.hint).toMatch(/MPICC=/);
    expect(() => checkLauncher(world, { SLURM_STEP_NUM_TASKS: '4', SLURM_PROCID: '2' })).toThrow(
      /srun --mpi=pmix/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { launcherWorld } from './launcher.js';

describe('launcherWorld', () => {
  it('reads Open MPI, PMI (MPICH) and Slurm job-step variables', () => {
    expect(launcherWorld({ OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_RANK: '3' })).toEqual({
      launcher: 'open-mpi',
      size: 4,
      rank: 3,
    });
    expect(launcherWorld({ PMI_SIZE: '2', PMI_RANK: '0' })).toEqual({
      launcher: 'pmi',
      size: 2,
      rank: 0,
    });
    expect(
      launcherWorld({ SLURM_NTASKS: '8', SLURM_STEP_NUM_TASKS: '8', SLURM_PROCID: '5' }),
    ).toEqual({ launcher: 'slurm', size: 8, rank: 5 });
  });

  it('is undefined for a process started alone, and in a Slurm batch script outside srun', () => {
    expect(launcherWorld({})).toBeUndefined();
    expect(launcherWorld({ SLURM_NTASKS: '8', SLURM_PROCID: '0' })).toBeUndefined();
  });

  it('ignores malformed values instead of guessing', () => {
    expect(launcherWorld({ OMPI_COMM_WORLD_SIZE: 'two', OMPI_COMM_WORLD_RANK: '0' })).toBe(
      undefined,
    );
    expect(launcherWorld({ OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '2' })).toBe(undefined);
  });
});

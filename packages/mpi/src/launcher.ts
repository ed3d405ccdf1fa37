/** Where the world size and rank of this process came from. */
export type Launcher = 'open-mpi' | 'pmi' | 'slurm';

/** The world a launcher started this process in, read from its environment. */
export interface LauncherWorld {
  launcher: Launcher;
  /** Processes in the job. */
  size: number;
  /** This process's global rank in [0, size). */
  rank: number;
}

type Env = Record<string, string | undefined>;

function count(env: Env, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text);
}

/**
 * The world of the launcher that started this process, from its environment, or undefined when
 * no launcher did: Open MPI's `mpirun` (OMPI_COMM_WORLD_SIZE, OMPI_COMM_WORLD_RANK), an MPICH
 * or Intel MPI `mpiexec` (PMI_SIZE, PMI_RANK) and Slurm's `srun` (SLURM_STEP_NUM_TASKS,
 * SLURM_PROCID: set for a job step, not in the batch script itself, where SLURM_NTASKS is only
 * the allocation). A process started alone reports undefined, so a plain `lrw train` stays
 * single-process.
 *
 * @example
 * launcherWorld({ OMPI_COMM_WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '1' })
 * // => { launcher: 'open-mpi', size: 2, rank: 1 }
 */
export function launcherWorld(env: Env = process.env): LauncherWorld | undefined {
  const probes: [Launcher, string, string][] = [
    ['open-mpi', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_RANK'],
    ['pmi', 'PMI_SIZE', 'PMI_RANK'],
    ['slurm', 'SLURM_STEP_NUM_TASKS', 'SLURM_PROCID'],
  ];
  for (const [launcher, sizeName, rankName] of probes) {
    const size = count(env, sizeName);
    const rank = count(env, rankName);
    if (size !== undefined && size >= 1 && rank !== undefined && rank < size) {
      return { launcher, size, rank };
    }
  }
  return undefined;
}

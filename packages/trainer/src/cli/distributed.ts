import { availableParallelism, cpus } from 'node:os';
import { MpiError } from '@lrw/mpi';
import type { Collective } from '../collective.js';
import { detectLauncher, MpiCollective } from '../mpi-collective.js';
import { TrainerError } from '../trainer-error.js';
import { describeFailure } from './errors.js';
import { CliError, type CliIo } from './io.js';

/** `--distributed`: mpi (always), none (never) or auto (when a launcher started this process). */
export const DISTRIBUTED_MODES = ['auto', 'mpi', 'none'] as const;
export type DistributedMode = (typeof DISTRIBUTED_MODES)[number];

/** The processes of a `lrw train`: one (no collective) or the ranks of an MPI job. */
export interface DistributedRun {
  /** The collective for trainRun; undefined for a single process. */
  collective: Collective | undefined;
  rank: number;
  worldSize: number;
  /** With several ranks: how many CPU threads each rank's cpu backend runs, and why. */
  threadsNote?: string;
  /** After a run that every rank finished (or stopped together): the end of MPI. */
  finish(): void;
  /**
   * After `error` on this rank: with several ranks, prints it naming this rank and ends the
   * whole job (MPI_Abort), so no rank waits on this one; with one, returns to rethrow.
   */
  fail(error: unknown): void;
}

const single: DistributedRun = {
  collective: undefined,
  rank: 0,
  worldSize: 1,
  finish() {},
  fail() {},
};

/**
 * Starts MPI when `mode` asks for it: 'mpi' always, 'auto' when mpirun, mpiexec or srun
 * started this process with more than one rank (read from the launcher's environment), 'none'
 * never. Where MPI is needed and absent, a CliError says what to install.
 */
export function startDistributed(
  mode: DistributedMode,
  io: Pick<CliIo, 'stderr'>,
  env: Record<string, string | undefined> = process.env,
  options: { timeoutSeconds?: number } = {},
): DistributedRun {
  const launched = detectLauncher(env);
  if (mode === 'none' || (mode === 'auto' && (launched === undefined || launched.size === 1))) {
    return single;
  }
  let collective: MpiCollective;
  try {
    collective = MpiCollective.init(options);
  } catch (error) {
    if (!MpiError.isInstance(error)) throw error;
    if (error.code === 'launcher-mismatch') {
      // the library's own check: the launcher's world is not the one MPI sees
      throw new CliError(
        error.message.split('\nHINT: ')[0]!,
        `${error.hint} Or train in one process with --distributed none.`,
        1,
      );
    }
    const how = launched
      ? `this process is rank ${launched.rank} of ${launched.size} started by ${launched.launcher === 'slurm' ? 'srun' : 'mpirun'}`
      : '--distributed mpi asks for MPI';
    throw new CliError(
      `${how}, but ${error.message.split('\nHINT: ')[0]!.replace(/^MPI is not available: /, 'MPI is not available: ')}`,
      `${error.hint}; or train in one process with --distributed none.`,
      1,
    );
  }
  const { rank, worldSize } = collective;
  let threadsNote: string | undefined;
  if (worldSize > 1 && !env.LRW_TENSOR_THREADS) {
    // read by @lrw/tensor when the cpu backend is made, which happens after this
    const t = rankThreads(env);
    process.env.LRW_TENSOR_THREADS = String(t.threads);
    threadsNote = `${t.threads} CPU thread(s) per rank: ${t.why} (LRW_TENSOR_THREADS overrides).`;
  }
  return {
    collective,
    rank,
    worldSize,
    threadsNote,
    finish() {
      collective.finalize();
    },
    fail(error: unknown) {
      if (worldSize === 1) {
        collective.finalize();
        return;
      }
      const failure = describeFailure(error, `lrw train (rank ${rank} of ${worldSize}): `);
      io.stderr(failure.text);
      collective.abort(failure.exitCode === 0 ? 1 : failure.exitCode);
    },
  };
}

/**
 * Whether every rank stopped together (the run's stop vote: a signal on any rank stops all of
 * them after the same step), so MPI can end normally instead of aborting the job.
 */
export function stoppedTogether(error: unknown): boolean {
  return (
    TrainerError.isInstance(error) &&
    error.code === 'interrupted' &&
    // a stop during the start-up checks comes before the ranks agree on anything
    !error.message.startsWith('Stopped before training started')
  );
}

/**
 * The CPU threads of one rank when LRW_TENSOR_THREADS is unset: where the launcher bound the
 * rank to fewer cores than the machine has (Open MPI binds each of up to 2 ranks to a core by
 * default, Slurm to its allocation), those cores; where it did not (MPICH's mpiexec), the
 * machine's cores shared out among the ranks on it (OMPI_COMM_WORLD_LOCAL_SIZE,
 * MPI_LOCALNRANKS), so that ranks do not run more threads than there are cores.
 */
export function rankThreads(
  env: Record<string, string | undefined>,
  usable = availableParallelism(),
  machine = cpus().length,
): { threads: number; why: string } {
  if (usable < machine) {
    return {
      threads: usable,
      why: `the launcher bound each rank to ${usable} of ${machine} cores`,
    };
  }
  const local = Number(env.OMPI_COMM_WORLD_LOCAL_SIZE ?? env.MPI_LOCALNRANKS ?? '');
  if (Number.isInteger(local) && local >= 1) {
    const threads = Math.max(1, Math.floor(machine / local));
    return { threads, why: `${machine} cores shared by ${local} ranks on this machine` };
  }
  return { threads: usable, why: `${usable} cores, the number of ranks on this machine unknown` };
}

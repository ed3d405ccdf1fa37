import { type LauncherWorld, launcherWorld, MpiWorld } from '@lrw/mpi';
import type { Collective } from './collective.js';

/**
 * The trainer's `Collective` on the system MPI (@lrw/mpi), for one process per rank started
 * by `mpirun` or `srun`: per-sample losses through MPI_Allgatherv, the flat gradient vector
 * through one in-place MPI_Allreduce, the initial parameters through MPI_Bcast. Each call
 * blocks until every rank has made it, and resolves with a new array (the interface's
 * contract: inputs are never changed).
 *
 * Faults end the job, not one rank: MPI's errors are fatal, and `abort` (MPI_Abort) makes the
 * launcher stop every rank and name the failing one.
 */
export class MpiCollective implements Collective {
  readonly worldSize: number;
  readonly rank: number;

  private constructor(readonly world: MpiWorld) {
    this.worldSize = world.size;
    this.rank = world.rank;
  }

  /**
   * Initialises MPI (once per process). Throws @lrw/mpi's MpiError, which says what to install,
   * where MPI or its addon is missing. `timeoutSeconds`: a collective call that waits longer for
   * the other ranks ends the job, naming this rank (a stuck rank; default: no limit).
   */
  static init(options: { timeoutSeconds?: number } = {}): MpiCollective {
    const world = MpiWorld.init();
    if (options.timeoutSeconds) world.setTimeout(options.timeoutSeconds);
    return new MpiCollective(world);
  }

  async allGather(local: Float32Array): Promise<Float32Array> {
    return this.world.allGather(local);
  }

  async allReduceSum(local: Float32Array): Promise<Float32Array> {
    const out = local.slice();
    this.world.allReduceSum(out);
    return out;
  }

  async barrier(): Promise<void> {
    this.world.barrier();
  }

  async broadcast(values: Float32Array, root: number): Promise<Float32Array> {
    const out = values.slice();
    this.world.broadcast(out, root);
    return out;
  }

  /** Ends every rank of the job with exit `code`; the launcher reports this rank. */
  abort(code: number): never {
    return this.world.abort(code);
  }

  /** The end of MPI in this process (every rank calls it after the run). */
  finalize(): void {
    this.world.finalize();
  }
}

/** The launcher's world when this process was started by mpirun, mpiexec or srun. */
export function detectLauncher(
  env: Record<string, string | undefined> = process.env,
): LauncherWorld | undefined {
  return launcherWorld(env);
}

import { type LauncherWorld, launcherWorld, MpiWorld } from '@lrw/mpi';
import type { Collective } from './collective.js';

/**
 * The trainer's `Collective` on the system MPI (@lrw/mpi), for one process per rank started
 * by `mpirun` or `srun`: per-sample losses through MPI_Allgatherv, the gradients through
 * in-place MPI_Allreduce calls (buckets started during backward with `startAllReduceSum`, run
 * by the addon's communication thread; or one flat vector), the initial parameters through
 * MPI_Bcast. The blocking calls block until every rank has made them, and resolve with a new
 * array (the interface's contract: inputs are never changed).
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

  /**
   * The gradient bucket's sum on the addon's communication thread (MPI_Allreduce in place,
   * while this thread goes on with backward); resolves with `buffer` itself.
   */
  async startAllReduceSum(buffer: Float32Array): Promise<Float32Array> {
    await this.world.allReduceSumAsync(buffer);
    return buffer;
  }

  /** Set where MPI provides less than MPI_THREAD_SERIALIZED (the gradients then go flat). */
  get overlapUnavailableReason(): string | undefined {
    return this.world.asyncUnavailableReason;
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

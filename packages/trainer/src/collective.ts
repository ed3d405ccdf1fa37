import { TrainerError } from './trainer-error.js';

/**
 * The communication a data-parallel trainer needs (ARCHITECTURE.md, "Data parallelism from day
 * one"). Per-sample losses go through `allGather` before normalization, so every rank weights
 * the GLOBAL batch and takes its slice by global `rank`; gradients go through `allReduceSum`.
 * MpiCollective (mpi-collective.ts) runs it on the system MPI; NCCL can come later without
 * changing anything above this interface.
 *
 * Every rank must call the collective operations in the same order with arrays of the same
 * length (allReduceSum) — the contract of MPI and NCCL.
 */
export interface Collective {
  /** Number of ranks taking part. */
  readonly worldSize: number;
  /** This process's global rank in [0, worldSize). */
  readonly rank: number;
  /** Concatenation of every rank's `local`, in rank order. Lengths may differ between ranks. */
  allGather(local: Float32Array): Promise<Float32Array>;
  /** Element-wise sum over ranks; every rank gets the same new array. */
  allReduceSum(local: Float32Array): Promise<Float32Array>;
  /** Resolves once every rank has reached the barrier. */
  barrier(): Promise<void>;
  /**
   * Rank `root`'s `values` on every rank (the initial parameters, so that every rank starts
   * from the same state). Lengths must be equal on every rank.
   */
  broadcast(values: Float32Array, root: number): Promise<Float32Array>;
  /**
   * Optional, for overlapping the gradient sum with backward: starts the element-wise sum over
   * ranks of `buffer` and returns at once, while the communication goes on as the caller keeps
   * running JavaScript (MPI: on the addon's communication thread). The caller hands `buffer`
   * over: it may be summed in place, and must not be touched until the Promise resolves with the
   * sums (`buffer` itself or a new array). Started calls complete in the order they were
   * started; every rank must start the same sequence of lengths, and await them all before its
   * next other collective call. Collectives without it get the blocking `allReduceSum` of one
   * flat vector.
   */
  startAllReduceSum?(buffer: Float32Array): Promise<Float32Array>;
  /**
   * Why `startAllReduceSum` cannot be used here (e.g. MPI's thread support is too low), or
   * undefined when it can.
   */
  readonly overlapUnavailableReason?: string | undefined;
}

/** The default: one process, so gather and reduce return a copy of the input. */
export class SingleProcessCollective implements Collective {
  readonly worldSize = 1;
  readonly rank = 0;

  async allGather(local: Float32Array): Promise<Float32Array> {
    return local.slice();
  }

  async allReduceSum(local: Float32Array): Promise<Float32Array> {
    return local.slice();
  }

  async barrier(): Promise<void> {}

  async broadcast(values: Float32Array): Promise<Float32Array> {
    return values.slice();
  }
}

/** Throws a TrainerError unless `collective` has a valid world size and rank. */
export function checkCollective(collective: Collective): void {
  const { worldSize, rank } = collective;
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new TrainerError(
      'collective',
      `Collective: worldSize = ${String(worldSize)} is invalid.`,
      'worldSize is the number of ranks, a whole number >= 1.',
    );
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new TrainerError(
      'collective',
      `Collective: rank = ${String(rank)} is outside [0, ${worldSize}).`,
      'pass the GLOBAL rank of this process (not the local rank on its node).',
    );
  }
}

import { loadMpiAddon, type MpiAddon } from './binding.js';
import { launcherWorld } from './launcher.js';
import { MpiError } from './mpi-error.js';
import { CollectiveWatchdog } from './watchdog.js';

type FloatArray = Float32Array | Float64Array;

let current: MpiWorld | undefined;

/**
 * MPI_COMM_WORLD of this process: every rank of the job that `mpirun` or `srun` started. The
 * operations are collective: every rank must call them in the same order (with equal lengths
 * for `allReduceSum` and `broadcast`). They block until the peers have made the same call; an
 * MPI error ends the whole job (the launcher reports which rank failed) instead of a hang.
 *
 * @example
 * const world = MpiWorld.init();
 * const grads = new Float32Array([world.rank, 1]);
 * world.allReduceSum(grads); // [0 + 1 + ... + (size - 1), size] on every rank
 * world.finalize();
 */
export class MpiWorld {
  /** Number of ranks. */
  readonly size: number;
  /** This process's rank in [0, size). */
  readonly rank: number;
  /**
   * The thread support MPI provided ('single', 'funneled', 'serialized' or 'multiple'); it is
   * asked for 'serialized', which `allReduceSumAsync` needs.
   */
  readonly threadLevel: string;
  /** The MPI library, e.g. "Open MPI v4.1.4". */
  readonly library: string;
  /** The host this rank runs on (MPI_Get_processor_name). */
  readonly processor: string;

  private constructor(
    private readonly addon: MpiAddon,
    info: ReturnType<MpiAddon['init']>,
  ) {
    this.size = info.size;
    this.rank = info.rank;
    this.threadLevel = info.threadLevel;
    this.library = info.library;
    this.processor = info.processor;
  }

  /**
   * Initialises MPI once per process (MPI_Init_thread, serialized) and returns the world; later
   * calls return the same world. Throws an MpiError that says what to install where MPI is
   * absent.
   */
  static init(): MpiWorld {
    if (current) return current;
    const addon = loadMpiAddon();
    if (addon.state() === 'finalized') {
      throw new MpiError(
        'mpi-not-ready',
        'MPI was finalized in this process and cannot be initialised again.',
        'initialise MPI once per process and finalize it at the very end.',
      );
    }
    const world = new MpiWorld(
      addon,
      call(() => addon.init()),
    );
    checkLauncher(world, process.env);
    current = world;
    return current;
  }

  private watchdog: CollectiveWatchdog | undefined;

  /**
   * Ends this process (and so, through the launcher, the job) when a collective call waits
   * longer than `seconds` for the other ranks: a rank that hangs, rather than dies, would
   * otherwise keep every rank waiting. The message names this rank and the operation. The limit
   * must exceed the longest wait a correct run has (e.g. the other ranks wait at a barrier while
   * rank 0 evaluates). 0 turns it off.
   */
  setTimeout(seconds: number): void {
    if (!(Number.isFinite(seconds) && seconds >= 0)) {
      throw new MpiError(
        'invalid-argument',
        `MpiWorld.setTimeout: ${String(seconds)} is not a number of seconds.`,
        'pass seconds >= 0 (0: no limit).',
      );
    }
    void this.watchdog?.stop();
    this.watchdog = seconds > 0 ? new CollectiveWatchdog(seconds, this.rank, this.size) : undefined;
    // the communication thread reports the end of each queued call to the new watchdog
    this.addon.setProgressCells(this.watchdog ? this.watchdog.cells : null);
  }

  private guarded<T>(op: 'allGather' | 'allReduceSum' | 'broadcast' | 'barrier', f: () => T): T {
    return this.watchdog ? this.watchdog.guard(op, () => call(f)) : call(f);
  }

  /** Every rank's `values` concatenated in rank order (lengths may differ between ranks). */
  allGather<T extends FloatArray>(values: T): T {
    return this.guarded('allGather', () => this.addon.allGather(values));
  }

  /** Element-wise sum over ranks, written into `values` on every rank. */
  allReduceSum(values: FloatArray): void {
    this.guarded('allReduceSum', () => this.addon.allReduceSum(values));
  }

  /**
   * Why `allReduceSumAsync` cannot run here (the MPI library provides less than
   * MPI_THREAD_SERIALIZED), or undefined when it can.
   */
  get asyncUnavailableReason(): string | undefined {
    return this.threadLevel === 'serialized' || this.threadLevel === 'multiple'
      ? undefined
      : `allReduceSumAsync needs MPI_THREAD_SERIALIZED, but ${this.library} provides only '${this.threadLevel}'`;
  }

  /**
   * `allReduceSum` on the addon's communication thread: queues `values` and returns at once; the
   * Promise resolves once the element-wise sum over ranks is in `values`. Queued calls run one at
   * a time in call order, while this thread goes on with JavaScript (e.g. the rest of backward),
   * and every rank must queue the same sequence of lengths. `values` must not be read or written
   * until its Promise settles. A blocking operation (allReduceSum, broadcast, allGather, barrier,
   * finalize) first waits for every queued call to finish. Under `setTimeout`, calls in flight
   * with none starting or finishing for longer than the limit end the job as for blocking calls.
   * Throws an MpiError of code 'mpi-error' where MPI's thread support is too low
   * (`asyncUnavailableReason`).
   */
  allReduceSumAsync(values: FloatArray): Promise<void> {
    const unavailable = this.asyncUnavailableReason;
    if (unavailable !== undefined) {
      throw new MpiError(
        'mpi-error',
        `${unavailable}.`,
        'use the blocking allReduceSum, or an MPI library built with thread support.',
      );
    }
    const dog = this.watchdog;
    dog?.begin('allReduceSum');
    let promise: Promise<void>;
    try {
      promise = call(() => this.addon.allReduceSumAsync(values));
    } catch (error) {
      dog?.end();
      throw error;
    }
    // the communication thread counts it out of the watchdog when it leaves MPI
    return promise.catch((error: unknown) => {
      throw asMpiError(error);
    });
  }

  /** Rank `root`'s `values`, written into `values` on every rank. */
  broadcast(values: FloatArray, root = 0): void {
    this.guarded('broadcast', () => this.addon.broadcast(values, root));
  }

  /** Returns once every rank has called it. */
  barrier(): void {
    this.guarded('barrier', () => this.addon.barrier());
  }

  /**
   * Ends every rank of the job with exit `code` (MPI_Abort; the launcher reports this rank).
   * Flushes nothing that is still queued in Node's streams: write errors synchronously first.
   * Waits `graceMs` (default 250) before MPI_Abort: the launcher forwards what ranks write
   * through its own processes, and MPICH's mpiexec, tearing the job down at once, now and then
   * dropped the line this rank had just written (on a busy machine, about 1 launch in 10).
   */
  abort(code = 1, options: { graceMs?: number } = {}): never {
    const grace = options.graceMs ?? 250;
    if (grace > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, grace);
    return this.addon.abort(code);
  }

  /**
   * Finalizes MPI (collective: every rank must call it); later operations throw. Some
   * transports can hang inside MPI_Finalize after all the work is done (MPICH over UCX's TCP
   * transport, now and then): when it has not returned after `timeoutSeconds` (default 60; 0: no
   * limit), this process prints why and ends (SIGKILL, so the launcher ends the job) rather than
   * keep the job alive forever.
   */
  finalize(options: { timeoutSeconds?: number } = {}): void {
    void this.watchdog?.stop();
    this.watchdog = undefined;
    const seconds = options.timeoutSeconds ?? 60;
    const guard =
      seconds > 0
        ? new CollectiveWatchdog(seconds, this.rank, this.size, {
            prefix: `lrw: rank ${this.rank} of ${this.size}: MPI_Finalize did not return within ${seconds} s (everything before it had completed; some MPI transports hang at shut-down, or another rank never reached `,
            suffix: `); ending this process (the launcher reports it as killed, signal 9).\n`,
          })
        : undefined;
    try {
      if (guard) guard.guard('finalize', () => call(() => this.addon.finalize()));
      else call(() => this.addon.finalize());
    } finally {
      void guard?.stop();
    }
  }

  /** Whether finalize() has run. */
  get finalized(): boolean {
    return this.addon.state() === 'finalized';
  }

  /** Seconds on MPI's clock (MPI_Wtime). */
  wtime(): number {
    return this.addon.wtime();
  }
}

/** Runs an addon call, turning its errors into MpiErrors with a hint. */
function call<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw asMpiError(error);
  }
}

/** An addon error as an MpiError with a hint. */
function asMpiError(error: unknown): MpiError {
  const e = error as Error & { code?: string };
  if (e.code === 'MPI_NOT_READY') {
    return new MpiError(
      'mpi-not-ready',
      e.message,
      'call MpiWorld.init() first, and finalize() only once, after the last operation.',
      { cause: error },
    );
  }
  if (e.code === 'MPI_POLL_US') {
    return new MpiError(
      'invalid-argument',
      e.message,
      'unset LRW_MPI_POLL_US (then a waiting rank tests and yields the core) or set it to a whole number of microseconds.',
      { cause: error },
    );
  }
  if (e.code === 'MPI_ERROR') {
    return new MpiError(
      'mpi-error',
      e.message,
      'check that every rank makes the same calls in the same order.',
      { cause: error },
    );
  }
  return new MpiError(
    'invalid-argument',
    e.message,
    'pass a Float32Array or Float64Array (and a root in [0, size)).',
    { cause: error },
  );
}

/**
 * Throws when the launcher's environment says this process is one rank of a larger job but MPI
 * sees a different world. That happens when the addon was built against one MPI implementation
 * and the job was started by another's launcher (Open MPI's library under MPICH's mpiexec, or the
 * reverse): each process then initialises alone, as a world of one, and would train alone.
 */
export function checkLauncher(
  world: Pick<MpiWorld, 'size' | 'rank' | 'library'>,
  env: Record<string, string | undefined>,
): void {
  const launched = launcherWorld(env);
  if (!launched || (launched.size === world.size && launched.rank === world.rank)) return;
  const by =
    launched.launcher === 'open-mpi'
      ? "Open MPI's mpirun"
      : launched.launcher === 'pmi'
        ? 'an MPICH-style mpiexec (PMI)'
        : "Slurm's srun";
  throw new MpiError(
    'launcher-mismatch',
    `This process was started by ${by} as rank ${launched.rank} of ${launched.size}, but the MPI library of the @lrw/mpi addon (${world.library.trim().split('\n')[0]}) sees rank ${world.rank} of ${world.size}: the library is not connected to the launcher.`,
    launched.launcher === 'slurm'
      ? 'start with srun --mpi=pmix (or the PMI plugin your MPI was built for: srun --mpi=list), or with mpirun inside the allocation.'
      : "start the job with the mpirun of the MPI implementation the addon was built with, or rebuild the addon with the launcher's compiler wrapper: `MPICC=<its mpicc, e.g. mpicc.mpich> node <@lrw/mpi>/scripts/build-native.mjs` (in the lrw repository: `MPICC=... npm run build`).",
  );
}

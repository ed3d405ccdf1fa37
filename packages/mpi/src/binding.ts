import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MpiError } from './mpi-error.js';

/** The addon's raw interface (native/lrw_mpi.c). */
export interface MpiAddon {
  init(): {
    rank: number;
    size: number;
    threadLevel: string;
    library: string;
    processor: string;
  };
  state(): 'uninitialized' | 'initialized' | 'finalized';
  allReduceSum(values: Float32Array | Float64Array): void;
  /** Queued on the communication thread; `values` must stay untouched until it settles. */
  allReduceSumAsync(values: Float32Array | Float64Array): Promise<void>;
  /** Waits until the communication thread has no queued or running call. */
  drain(): void;
  /** The watchdog's shared [counter, busy] cells, or null for none. */
  setProgressCells(cells: Int32Array | null): void;
  allGather<T extends Float32Array | Float64Array>(values: T): T;
  broadcast(values: Float32Array | Float64Array, root: number): void;
  barrier(): void;
  abort(code: number): never;
  finalize(): void;
  wtime(): number;
}

const BUILD_SCRIPT = fileURLToPath(new URL('../scripts/build-native.mjs', import.meta.url));
const INSTALL = `install MPI and build the addon: on Debian/Ubuntu \`apt-get install openmpi-bin libopenmpi-dev\` (or MPICH: mpich libmpich-dev), then \`npm run build\` in the lrw repository, or \`node ${BUILD_SCRIPT}\` for an installed @lrw/mpi (it compiles the addon with mpicc)`;

let cached: MpiAddon | undefined;

/** The addon file: LRW_MPI_ADDON, else dist/native/lrw_mpi.node of this package. */
export function addonPath(env: Record<string, string | undefined> = process.env): string {
  return (
    env.LRW_MPI_ADDON || fileURLToPath(new URL('../dist/native/lrw_mpi.node', import.meta.url))
  );
}

/**
 * Loads the addon once per process. Throws an MpiError of code 'mpi-unavailable' that says what
 * to install when it is not built or libmpi cannot be loaded. The addon is opened with
 * RTLD_GLOBAL so that the MPI library's own plugins (Open MPI's MCA components) resolve their
 * symbols against it.
 */
export function loadMpiAddon(): MpiAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new MpiError(
      'mpi-unavailable',
      `MPI is not available: the @lrw/mpi addon ${path} is not built (npm run build skips it where there is no mpicc).`,
      INSTALL,
    );
  }
  const module = { exports: {} as MpiAddon };
  try {
    process.dlopen(module, path, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
  } catch (error) {
    throw new MpiError(
      'mpi-unavailable',
      `MPI is not available: the @lrw/mpi addon ${path} failed to load: ${(error as Error).message}.`,
      `${INSTALL}; if MPI was upgraded or removed since the build, rebuild`,
      { cause: error },
    );
  }
  cached = module.exports;
  return cached;
}

/** Whether the addon loads here, and if not, why (never throws). */
export function mpiAvailability(): { available: true } | { available: false; reason: string } {
  try {
    loadMpiAddon();
    return { available: true };
  } catch (error) {
    return { available: false, reason: (error as Error).message.split('\nHINT: ')[0]! };
  }
}

/**
 * The cuda backend on the CPU emulator of the CUDA driver (src/cuda/emulator.ts) for the tests:
 * registered as 'cuda-emulated' (fused routines) and 'cuda-emulated-composed' (none). Without a
 * C++ compiler or off x86-64 Linux the tests skip with the reason printed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CudaBackend } from '../../src/cuda/backend.js';
import {
  buildCudaEmulator,
  type CreateCudaBackendOptions,
  createCudaBackend,
} from '../../src/cuda/index.js';
import { backendNames, loadBackend, registerBackend } from '../../src/index.js';

export interface EmulatedCuda {
  dir?: string;
  reason?: string;
}

let found: Promise<EmulatedCuda> | undefined;

/** Builds the emulator and registers the two emulated backends (once per test file). */
export function emulatedCuda(): Promise<EmulatedCuda> {
  found ??= (async () => {
    const emu = buildCudaEmulator();
    if (!emu.dir) {
      console.warn(`[cuda emulator tests skipped] ${emu.reason}`);
      return { reason: emu.reason };
    }
    // NVRTC's stand-in output must never land in the user's real PTX cache.
    process.env.LRW_CUDA_CACHE_DIR = mkdtempSync(join(tmpdir(), 'lrw-cuda-cache-'));
    for (const [name, fused] of [
      ['cuda-emulated', true],
      ['cuda-emulated-composed', false],
    ] as const) {
      if (!backendNames().includes(name)) {
        registerBackend(name, () => emulatedBackend({ name, fusedRoutines: fused }, emu.dir!));
      }
      await loadBackend(name);
    }
    return { dir: emu.dir };
  })();
  return found;
}

/** A cuda backend on the emulator in `dir` (only the emulator's libraries are searched). */
export function emulatedBackend(
  options: CreateCudaBackendOptions,
  dir: string,
): Promise<CudaBackend> {
  return createCudaBackend({ ...options, libDirs: [dir], systemSearch: false });
}

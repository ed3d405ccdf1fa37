/**
 * A CPU emulator of the CUDA driver, cuBLAS and NVRTC (packages/tensor/cuda/emulator), for
 * testing code that runs on the cuda backend on machines without a GPU: `buildCudaEmulator()`
 * compiles the kernels of cuda/*.cu as host C++ with the system C++ compiler (g++, x86-64 Linux)
 * into fake libcuda.so.1, libcublas.so.13, libcublasLt.so.13 and libnvrtc.so.13 in a cache
 * directory, and `createCudaBackend({ libDirs: [dir], systemSearch: false })` then runs the real
 * backend (FFI, parameter packing, launch planning, the kernels' arithmetic, barriers and warp
 * shuffles) on the CPU. It checks logic, not the GPU's memory model or speed; it is slow (each
 * CUDA thread is a fiber), so keep tensors small.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CUDA_DIR = fileURLToPath(new URL('../../cuda/', import.meta.url));
const EMU_DIR = join(CUDA_DIR, 'emulator');

export interface CudaEmulator {
  /** Directory holding the fake libraries (pass it as `libDirs`), when built. */
  dir?: string;
  /** Why there is none (no C++ compiler, not x86-64 Linux, a compile error). */
  reason?: string;
}

/** The sources the emulator is built from (kernels and emulator), for its cache key. */
function sources(): string[] {
  const list = (d: string) =>
    readdirSync(d)
      .filter((f) => /\.(cu|cuh|cpp|h)$/.test(f))
      .sort()
      .map((f) => join(d, f));
  return [...list(CUDA_DIR), ...list(EMU_DIR)];
}

/**
 * Builds the emulator (once per source version; cached under the system temp directory, or
 * `cacheDir`) and returns its directory, or the reason it cannot be built here.
 */
export function buildCudaEmulator(cacheDir = join(tmpdir(), 'lrw-cuda-emulator')): CudaEmulator {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return {
      reason: `the CUDA emulator runs on x86-64 Linux (this is ${process.platform}-${process.arch})`,
    };
  }
  if (!existsSync(EMU_DIR)) return { reason: `the emulator sources are missing (${EMU_DIR})` };
  const files = sources();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update(readFileSync(f));
  const dir = join(cacheDir, hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'libcuda.so.1'))) return { dir };
  const cxx = process.env.CXX ?? 'g++';
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const common = ['-std=c++17', '-O1', '-fPIC', '-shared', '-Wno-unknown-pragmas'];
  const steps: string[][] = [
    [
      ...common,
      join(EMU_DIR, 'emu-cublaslt.cpp'),
      '-Wl,-soname,libcublasLt.so.13',
      '-o',
      join(tmp, 'libcublasLt.so.13'),
    ],
    // No RUNPATH: the backend must load cuBLASLt from the same directory before cuBLAS.
    [
      ...common,
      join(EMU_DIR, 'emu-cublas.cpp'),
      '-Wl,-soname,libcublas.so.13',
      `-L${tmp}`,
      '-l:libcublasLt.so.13',
      '-o',
      join(tmp, 'libcublas.so.13'),
    ],
    [
      ...common,
      join(EMU_DIR, 'emu-nvrtc.cpp'),
      '-Wl,-soname,libnvrtc.so.13',
      '-o',
      join(tmp, 'libnvrtc.so.13'),
    ],
    [
      ...common,
      `-I${EMU_DIR}`,
      '-include',
      join(EMU_DIR, 'emu.h'),
      '-x',
      'c++',
      join(CUDA_DIR, 'kernels.cu'),
      '-x',
      'none',
      join(EMU_DIR, 'emu-driver.cpp'),
      '-Wl,-soname,libcuda.so.1',
      '-o',
      join(tmp, 'libcuda.so.1'),
    ],
  ];
  for (const args of steps) {
    const r = spawnSync(cxx, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      const why = r.error ? `${cxx} not found (${r.error.message})` : `${cxx} failed:\n${r.stderr}`;
      return { reason: `could not build the CUDA emulator: ${why}` };
    }
  }
  try {
    renameSync(tmp, dir);
  } catch {
    // Another process built the same version first.
    rmSync(tmp, { recursive: true, force: true });
  }
  return { dir };
}

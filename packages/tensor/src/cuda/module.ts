/**
 * Getting the kernels onto the GPU: the image `npm run build` compiled ahead of time with nvcc
 * (dist/cuda-kernels/lrw-kernels.fatbin: SASS for sm_80 and sm_90 plus compute_80 PTX, which
 * the driver compiles for other GPUs), else PTX compiled at run time by NVRTC from the kernel
 * sources (cached in ~/.cache/lrw/cuda by source hash and architecture).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CudaUnavailableError, type Koffi } from './ffi.js';
import { flattenSource, kernelNames, sourceHash } from './kernel-source.js';
import { LIBRARY_NAMES, type LibrarySearch, loadLibrary, NVRTC_FIX } from './libraries.js';
import { compileWithNvrtc } from './nvrtc.js';

export const IMAGE_FILE = 'lrw-kernels.fatbin';
export const MANIFEST_FILE = 'lrw-kernels.json';
export const SOURCE_FILE = 'lrw-kernels.cu';

/** What the build wrote next to the image. */
export interface KernelManifest {
  hash: string;
  kernels: string[];
  /** SASS architectures in the image (e.g. [80, 90]); the PTX is compute_80. */
  archs: number[];
  nvcc: string;
}

/** Directories that may hold the built kernels (dist/cuda-kernels seen from dist or src). */
export function kernelDirs(explicit?: string): string[] {
  const dirs = [
    explicit,
    process.env.LRW_CUDA_KERNEL_DIR,
    fileURLToPath(new URL('../cuda-kernels/', import.meta.url)),
    fileURLToPath(new URL('../../dist/cuda-kernels/', import.meta.url)),
  ];
  return dirs.filter((d): d is string => !!d);
}

/** The kernel sources' entry file (packages/tensor/cuda/kernels.cu). */
export const SOURCE_ENTRY = fileURLToPath(new URL('../../cuda/kernels.cu', import.meta.url));

/** The flattened kernel source: the built copy, else the package's cuda/ sources. */
export function kernelSource(dirs: readonly string[]): string {
  for (const d of dirs) {
    const f = join(d, SOURCE_FILE);
    if (existsSync(f)) return readFileSync(f, 'utf8');
  }
  if (existsSync(SOURCE_ENTRY)) return flattenSource(SOURCE_ENTRY);
  throw new CudaUnavailableError(
    'kernels',
    `no kernel sources found (looked for ${SOURCE_FILE} in ${dirs.join(', ')} and for ${SOURCE_ENTRY})`,
    'reinstall @lrw/tensor (its dist/cuda-kernels and cuda/ directories hold the kernels)',
  );
}

export interface KernelImage {
  image: Uint8Array;
  kernels: string[];
  /** 'nvcc' (ahead of time), 'nvrtc' (compiled now), 'nvrtc-cache' (compiled earlier). */
  origin: 'nvcc' | 'nvrtc' | 'nvrtc-cache';
  path: string;
}

/** The ahead-of-time image, when built. */
export function builtImage(dirs: readonly string[]): KernelImage | undefined {
  for (const d of dirs) {
    const img = join(d, IMAGE_FILE);
    const man = join(d, MANIFEST_FILE);
    if (existsSync(img) && existsSync(man)) {
      const manifest = JSON.parse(readFileSync(man, 'utf8')) as KernelManifest;
      // An image whose source changed since (an interrupted build) is not used: NVRTC compiles.
      const src = join(d, SOURCE_FILE);
      if (existsSync(src) && sourceHash(readFileSync(src, 'utf8')) !== manifest.hash) continue;
      return {
        image: new Uint8Array(readFileSync(img)),
        kernels: manifest.kernels,
        origin: 'nvcc',
        path: img,
      };
    }
  }
  return undefined;
}

/** PTX for compute_`arch` from NVRTC (through the on-disk cache). */
export function nvrtcImage(
  koffi: Koffi,
  search: LibrarySearch,
  source: string,
  arch: number,
): KernelImage {
  const hash = sourceHash(source);
  const cacheDir = process.env.LRW_CUDA_CACHE_DIR ?? join(homedir(), '.cache', 'lrw', 'cuda');
  const cached = join(cacheDir, `${hash}-compute_${arch}.ptx`);
  const kernels = kernelNames(source);
  if (existsSync(cached)) {
    return { image: withNul(readFileSync(cached)), kernels, origin: 'nvrtc-cache', path: cached };
  }
  const nvrtc = loadLibrary(koffi, 'nvrtc', LIBRARY_NAMES.nvrtc, search, NVRTC_FIX);
  const ptx = compileWithNvrtc(nvrtc.lib, nvrtc.name, source, arch);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, ptx);
    renameSync(tmp, cached);
  } catch {
    // The cache is an optimisation: an unwritable home directory only costs a recompile.
  }
  return { image: withNul(ptx), kernels, origin: 'nvrtc', path: nvrtc.path || nvrtc.name };
}

/** PTX is loaded as a C string: make sure it ends with NUL. */
function withNul(b: Uint8Array): Uint8Array {
  if (b.length && b[b.length - 1] === 0) return new Uint8Array(b);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

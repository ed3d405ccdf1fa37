/**
 * Where the CUDA libraries are looked for, and loading them. The driver (libcuda.so.1) comes
 * with the NVIDIA driver; cuBLAS / cuBLASLt and NVRTC come with the CUDA toolkit or with
 * PyTorch's `nvidia-*` wheels. Search order: the directories of `LRW_CUDA_LIB_DIR` (a
 * colon-separated list) and of the `libDirs` option, then the dynamic linker's own search
 * (LD_LIBRARY_PATH, the ld.so cache), then the usual install locations below.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CudaUnavailableError, type Koffi, type NativeLibrary } from './ffi.js';

/** File names tried for each library, newest major version first. */
export const LIBRARY_NAMES = {
  driver: ['libcuda.so.1', 'libcuda.so'],
  cublas: ['libcublas.so.13', 'libcublas.so.12', 'libcublas.so.11'],
  nvrtc: ['libnvrtc.so.13', 'libnvrtc.so.12', 'libnvrtc.so.11.2'],
} as const;

/** cuBLASLt of the same major version as `cublas` (`libcublas.so.12` -> `libcublasLt.so.12`). */
export function cublasLtName(cublas: string): string {
  return cublas.replace('libcublas.', 'libcublasLt.');
}

export interface LibrarySearch {
  /** Directories searched first (LRW_CUDA_LIB_DIR, then the `libDirs` option). */
  first: string[];
  /** Whether the dynamic linker's search and the usual locations follow (default true). */
  system: boolean;
}

/** Sub-directories of a Python site-packages that PyTorch's CUDA wheels install into. */
const WHEEL_DIRS = [
  'nvidia/cu13/lib',
  'nvidia/cublas/lib',
  'nvidia/cuda_nvrtc/lib',
  'nvidia/cu12/lib',
];

function subdirs(dir: string, match: (name: string) => boolean): string[] {
  try {
    return readdirSync(dir)
      .filter(match)
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** Python site-packages directories on this machine (virtual environments, conda, system). */
function sitePackages(env: NodeJS.ProcessEnv): string[] {
  const prefixes = [
    env.VIRTUAL_ENV,
    env.CONDA_PREFIX,
    '/usr/local',
    '/usr',
    join(homedir(), '.local'),
  ];
  for (const opt of subdirs('/opt', () => true))
    prefixes.push(opt, join(opt, '.venv'), join(opt, 'venv'));
  const out: string[] = [];
  for (const prefix of prefixes) {
    if (!prefix) continue;
    for (const lib of ['lib', 'lib64']) {
      for (const py of subdirs(join(prefix, lib), (n) => n.startsWith('python3'))) {
        out.push(join(py, 'site-packages'), join(py, 'dist-packages'));
      }
    }
  }
  out.push('/usr/lib/python3/dist-packages');
  return out.filter((d) => existsSync(d));
}

/** The usual install locations, in search order (only those that exist). */
export function usualLibraryDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  for (const home of [env.CUDA_HOME, env.CUDA_PATH, '/usr/local/cuda']) {
    if (home)
      dirs.push(join(home, 'lib64'), join(home, 'targets/x86_64-linux/lib'), join(home, 'lib'));
  }
  dirs.push(
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/local/nvidia/lib64',
    '/usr/local/nvidia/lib',
    '/usr/lib/wsl/lib',
  );
  for (const sp of sitePackages(env)) for (const w of WHEEL_DIRS) dirs.push(join(sp, w));
  return [...new Set(dirs)].filter((d) => existsSync(d));
}

/** The search from the environment and options. */
export function librarySearch(
  options: { libDirs?: readonly string[]; systemSearch?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
): LibrarySearch {
  const fromEnv = (env.LRW_CUDA_LIB_DIR ?? '').split(':').filter(Boolean);
  return { first: [...fromEnv, ...(options.libDirs ?? [])], system: options.systemSearch ?? true };
}

export interface LoadedLibrary {
  lib: NativeLibrary;
  /** The file name that loaded (e.g. libcublas.so.12). */
  name: string;
  /** The path it was loaded from ('' when the dynamic linker found it by name). */
  path: string;
}

/**
 * Loads the first of `names` found in the search order; throws a CudaUnavailableError naming
 * every place tried (with each loader error) and `fix`.
 */
export function loadLibrary(
  koffi: Koffi,
  what: 'driver' | 'cublas' | 'nvrtc',
  names: readonly string[],
  search: LibrarySearch,
  fix: string,
  env: NodeJS.ProcessEnv = process.env,
  /** Runs before each load attempt (cuBLAS loads cuBLASLt from the same place first). */
  before?: (name: string, path: string) => void,
): LoadedLibrary {
  const tried: string[] = [];
  const attempt = (name: string, path: string): LoadedLibrary | undefined => {
    try {
      before?.(name, path);
      return { lib: koffi.load(path || name), name, path };
    } catch (e) {
      tried.push(`${path || name}: ${(e as Error).message.split('\n')[0]}`);
      return undefined;
    }
  };
  const inDirs = (dirs: readonly string[]) => {
    for (const dir of dirs) {
      for (const name of names) {
        const path = join(dir, name);
        if (!existsSync(path)) continue;
        const got = attempt(name, path);
        if (got) return got;
      }
    }
    return undefined;
  };
  const first = inDirs(search.first);
  if (first) return first;
  if (search.system) {
    for (const name of names) {
      const got = attempt(name, '');
      if (got) return got;
    }
    const usual = inDirs(usualLibraryDirs(env));
    if (usual) return usual;
  }
  const where = [
    ...(search.first.length ? [`LRW_CUDA_LIB_DIR / libDirs: ${search.first.join(', ')}`] : []),
    ...(search.system
      ? [
          'the dynamic linker path',
          `usual locations: ${usualLibraryDirs(env).join(', ') || '(none exist)'}`,
        ]
      : []),
  ].join('; ');
  throw new CudaUnavailableError(
    what,
    `${names[0]} (${names.join(' / ')}) not found or not loadable; searched ${where}` +
      (tried.length ? `; errors: ${tried.join('; ')}` : ''),
    fix,
  );
}

export const DRIVER_FIX =
  'install the NVIDIA driver (it provides libcuda.so.1), or point LRW_CUDA_LIB_DIR at the directory that holds libcuda.so.1';
export const CUBLAS_FIX =
  'install cuBLAS: the CUDA toolkit (libcublas.so.N and libcublasLt.so.N in /usr/local/cuda/lib64), ' +
  'or `pip install nvidia-cublas-cu12` (PyTorch installs it); if it is installed elsewhere, set ' +
  'LRW_CUDA_LIB_DIR to its lib directory';
export const NVRTC_FIX =
  'either build @lrw/tensor where nvcc is on the PATH (npm run build compiles the kernels ahead of ' +
  'time), or install NVRTC (the CUDA toolkit, or `pip install nvidia-cuda-nvrtc-cu12`) and set ' +
  'LRW_CUDA_LIB_DIR if it is not in a usual location';

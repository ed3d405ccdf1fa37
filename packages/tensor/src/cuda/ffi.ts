/**
 * The slice of the `koffi` FFI package the CUDA backend uses, typed here so the package is
 * needed only at run time (it is an optional dependency, imported lazily: a CPU-only install
 * never loads it).
 */

/** A C function bound by koffi: called with JavaScript values, returns the C result. */
export type NativeFn = ((...args: unknown[]) => unknown) & {
  async?: (...args: unknown[]) => void;
};

export interface NativeLibrary {
  func(definition: string): NativeFn;
  unload(): void;
}

/** An opaque native pointer (koffi's External). */
export type NativePointer = object;

export interface Koffi {
  load(path: string): NativeLibrary;
  alloc(type: string, length: number): NativePointer;
  free(ptr: NativePointer): void;
  view(ptr: NativePointer, length: number): ArrayBuffer;
  address(ptr: NativePointer): bigint;
  decode(ptr: NativePointer, type: string, length?: number): unknown;
}

/** Imports koffi (the default export of the `koffi` package), or explains how to install it. */
export async function importKoffi(specifier = 'koffi'): Promise<Koffi> {
  let mod: { default?: Koffi } & Partial<Koffi>;
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as typeof mod;
  } catch (e) {
    throw new CudaUnavailableError(
      'ffi',
      `the FFI package \`${specifier}\` could not be imported (${(e as Error).message.split('\n')[0]})`,
      'install the optional dependency koffi (`npm install koffi`; it ships prebuilt binaries, nothing CUDA-related is built at install time)',
    );
  }
  const k = (mod.default ?? mod) as Koffi;
  if (typeof k.load !== 'function') {
    throw new CudaUnavailableError(
      'ffi',
      `the package \`${specifier}\` is not koffi (it has no load function)`,
      'install koffi (`npm install koffi`)',
    );
  }
  return k;
}

/** What is missing when the CUDA backend cannot start. */
export type CudaMissing = 'ffi' | 'driver' | 'gpu' | 'cublas' | 'nvrtc' | 'kernels';

const MARKER = Symbol.for('@lrw/tensor.CudaUnavailableError');

/**
 * The CUDA backend cannot start on this machine: `missing` names what (the FFI package, the
 * driver, a GPU, cuBLAS, NVRTC, or a way to get the kernels) and the message says how to fix it.
 */
export class CudaUnavailableError extends Error {
  readonly [MARKER] = true;
  override readonly name = 'CudaUnavailableError';
  constructor(
    readonly missing: CudaMissing,
    what: string,
    readonly fix: string,
  ) {
    super(`cuda backend: ${what}. Fix: ${fix}`);
  }

  static isInstance(e: unknown): e is CudaUnavailableError {
    return typeof e === 'object' && e !== null && MARKER in e;
  }
}

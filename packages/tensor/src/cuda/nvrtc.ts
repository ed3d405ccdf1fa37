/**
 * NVRTC (libnvrtc.so.N), loaded only when no ahead-of-time kernel image exists: compiles the
 * flattened kernel source to PTX for the GPU's compute capability at run time.
 */
import type { NativeLibrary, NativePointer } from './ffi.js';
import { CudaUnavailableError } from './ffi.js';

export function compileWithNvrtc(
  lib: NativeLibrary,
  libName: string,
  source: string,
  arch: number,
): Uint8Array {
  const f = {
    create: lib.func(
      'int nvrtcCreateProgram(_Out_ void **prog, const char *src, const char *name, int numHeaders, void *headers, void *includeNames)',
    ),
    compile: lib.func('int nvrtcCompileProgram(void *prog, int numOptions, const char **options)'),
    ptxSize: lib.func('int nvrtcGetPTXSize(void *prog, _Out_ size_t *size)'),
    ptx: lib.func('int nvrtcGetPTX(void *prog, void *ptx)'),
    logSize: lib.func('int nvrtcGetProgramLogSize(void *prog, _Out_ size_t *size)'),
    log: lib.func('int nvrtcGetProgramLog(void *prog, void *log)'),
    destroy: lib.func('int nvrtcDestroyProgram(_Inout_ void **prog)'),
    error: lib.func('const char *nvrtcGetErrorString(int result)'),
  };
  const check = (code: unknown, call: string) => {
    if (code !== 0) {
      throw new CudaUnavailableError(
        'kernels',
        `${libName}: ${call} failed: ${f.error(code) as string}`,
        'build @lrw/tensor where nvcc is on the PATH, so the kernels are compiled ahead of time',
      );
    }
  };
  const prog: [NativePointer | null] = [null];
  check(f.create(prog, source, 'lrw-kernels.cu', 0, null, null), 'nvrtcCreateProgram');
  try {
    const options = [`--gpu-architecture=compute_${arch}`, '--std=c++17'];
    const code = f.compile(prog[0], options.length, options);
    if (code !== 0) {
      const size = [0];
      f.logSize(prog[0], size);
      const log = new Uint8Array(Number(size[0]));
      f.log(prog[0], log);
      throw new CudaUnavailableError(
        'kernels',
        `${libName} could not compile the kernels for compute_${arch}: ${f.error(code) as string}\n${new TextDecoder().decode(log)}`,
        'report this with the log above; meanwhile build @lrw/tensor where nvcc is on the PATH',
      );
    }
    const size = [0];
    check(f.ptxSize(prog[0], size), 'nvrtcGetPTXSize');
    const ptx = new Uint8Array(Number(size[0]));
    check(f.ptx(prog[0], ptx), 'nvrtcGetPTX');
    return ptx;
  } finally {
    f.destroy(prog);
  }
}

/**
 * cuBLAS through koffi: one handle on the backend's stream, fp32 products by default or TF32
 * tensor-core products (`CUBLAS_TF32_TENSOR_OP_MATH`) as an option. cuBLASLt of the same major
 * version is loaded first from the same directory (cuBLAS depends on it; loading it by path
 * lets the dynamic linker resolve that dependency outside its default search path).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CudaUnavailableError, type Koffi, type NativeFn, type NativePointer } from './ffi.js';
import type { GemmCall } from './gemm-plan.js';
import {
  CUBLAS_FIX,
  cublasLtName,
  LIBRARY_NAMES,
  type LibrarySearch,
  loadLibrary,
} from './libraries.js';

const MATH_DEFAULT = 0;
const MATH_TF32 = 3;

const STATUS: Record<number, string> = {
  1: 'CUBLAS_STATUS_NOT_INITIALIZED',
  3: 'CUBLAS_STATUS_ALLOC_FAILED',
  7: 'CUBLAS_STATUS_INVALID_VALUE',
  8: 'CUBLAS_STATUS_ARCH_MISMATCH',
  11: 'CUBLAS_STATUS_MAPPING_ERROR',
  13: 'CUBLAS_STATUS_EXECUTION_FAILED',
  14: 'CUBLAS_STATUS_INTERNAL_ERROR',
  15: 'CUBLAS_STATUS_NOT_SUPPORTED',
  16: 'CUBLAS_STATUS_LICENSE_ERROR',
};

export class Cublas {
  private readonly fn: {
    create: NativeFn;
    destroy: NativeFn;
    setStream: NativeFn;
    setMathMode: NativeFn;
    version: NativeFn;
    gemm: NativeFn;
  };
  private handle: NativePointer | null = null;
  private readonly alpha = new Float32Array([1]);
  private readonly beta = new Float32Array([0]);
  private readonly betaOne = new Float32Array([1]);
  /** cuBLAS and cuBLASLt versions (e.g. 130100), and where they were loaded from. */
  readonly version: number;
  readonly ltVersion: number;
  readonly path: string;

  constructor(koffi: Koffi, search: LibrarySearch, stream: NativePointer) {
    const cublas = loadLibraryWithLt(koffi, search);
    this.path = cublas.path || cublas.name;
    this.ltVersion = cublas.ltVersion;
    const lib = cublas.lib;
    try {
      this.fn = {
        create: lib.func('int cublasCreate_v2(_Out_ void **handle)'),
        destroy: lib.func('int cublasDestroy_v2(void *handle)'),
        setStream: lib.func('int cublasSetStream_v2(void *handle, void *stream)'),
        setMathMode: lib.func('int cublasSetMathMode(void *handle, int mode)'),
        version: lib.func('int cublasGetVersion_v2(void *handle, _Out_ int *version)'),
        gemm: lib.func(
          'int cublasSgemmStridedBatched(void *handle, int transa, int transb, int m, int n, int k, const float *alpha, uint64_t A, int lda, int64_t strideA, uint64_t B, int ldb, int64_t strideB, const float *beta, uint64_t C, int ldc, int64_t strideC, int batchCount)',
        ),
      };
    } catch (e) {
      throw new CudaUnavailableError(
        'cublas',
        `${this.path} is not a usable cuBLAS (${(e as Error).message.split('\n')[0]})`,
        CUBLAS_FIX,
      );
    }
    const out: [NativePointer | null] = [null];
    this.check(this.fn.create(out), 'cublasCreate_v2');
    this.handle = out[0];
    this.check(this.fn.setStream(this.handle, stream), 'cublasSetStream_v2');
    const v = [0];
    this.check(this.fn.version(this.handle, v), 'cublasGetVersion_v2');
    this.version = v[0]!;
  }

  private check(code: unknown, call: string): void {
    if (code !== 0) {
      const name = STATUS[code as number] ?? `cublasStatus ${code}`;
      throw new Error(`cuda backend: ${call} failed: ${name}`);
    }
  }

  /** fp32 (pedantic-free default math) or TF32 tensor-core products. */
  setTf32(on: boolean): void {
    this.check(
      this.fn.setMathMode(this.handle, on ? MATH_TF32 : MATH_DEFAULT),
      'cublasSetMathMode',
    );
  }

  /**
   * One planned call on float32 device buffers (`a`, `b`, `c` are base addresses; the call's
   * element offsets are added here). `accumulate`: C += product (beta 1).
   */
  gemm(call: GemmCall, a: number, b: number, c: number, accumulate = false): void {
    this.check(
      this.fn.gemm(
        this.handle,
        call.transa ? 1 : 0,
        call.transb ? 1 : 0,
        call.m,
        call.n,
        call.k,
        this.alpha,
        a + call.aOffset * 4,
        call.lda,
        call.strideA,
        b + call.bOffset * 4,
        call.ldb,
        call.strideB,
        accumulate ? this.betaOne : this.beta,
        c + call.cOffset * 4,
        call.ldc,
        call.strideC,
        call.batch,
      ),
      'cublasSgemmStridedBatched',
    );
  }

  destroy(): void {
    if (this.handle) this.fn.destroy(this.handle);
    this.handle = null;
  }
}

/** cuBLAS, with cuBLASLt of the same version loaded first from the same place. */
function loadLibraryWithLt(koffi: Koffi, search: LibrarySearch) {
  let ltVersion = 0;
  const cublas = loadLibrary(
    koffi,
    'cublas',
    LIBRARY_NAMES.cublas,
    search,
    CUBLAS_FIX,
    process.env,
    (name, path) => {
      const lt = cublasLtName(name);
      const ltPath = path ? join(dirname(path), lt) : lt;
      // Missing beside it: cuBLAS's own load then fails naming libcublasLt, which is reported.
      if (path && !existsSync(ltPath)) return;
      try {
        ltVersion = Number(koffi.load(ltPath).func('size_t cublasLtGetVersion()')());
      } catch {
        // Reported by the load of cuBLAS that follows.
      }
    },
  );
  return { ...cublas, ltVersion };
}

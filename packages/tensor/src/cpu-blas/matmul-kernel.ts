// The CPU backend's `matmul` kernel on the native BLAS: maps a KernelCall's strided views to one
// batched sgemm per run of uniformly strided batch items, in place on the tensors' storage.
// Unlike the wasm gemm, BLAS takes a leading dimension, so a row-strided matrix (an attention
// head sliced out of a fused qkv: rows 3C apart) needs no packing either.
import type { KernelCall, TensorView } from '../backend.js';
import type { CpuBackend, CpuKernel } from '../cpu/cpu-backend.js';
import { float32Matmul, forEachBatchRun, packedBatchStrides, packMatrices } from '../cpu/gemm.js';
import type { BlasProvider } from './provider.js';

/**
 * Products below this many flops (2 M N K per batch run) go to the fallback kernel. Measured
 * with `node bench/wasm-matmul.mjs --small` (2026-11-28, one thread): a BLAS call on n^3 took
 * 0.7 / 0.8 / 2.4 / 9.3 us at n = 4 / 16 / 32 / 64 against 1.2 / 1.6 / 4.9 / 22.9 us for the wasm
 * gemm (which copies operands into its memory), so no product is too small for BLAS: 0.
 */
export const DEFAULT_BLAS_MIN_FLOPS = 0;

interface Operand {
  data: Float32Array;
  offset: number;
  trans: boolean;
  ld: number;
  batchStrides: number[];
}

/**
 * Row-major ([R, S], row stride ld) or transposed ([S, R] stored, row stride ld) reading of
 * strides (sR, sS); undefined when neither (needs packing). Size-1 axes match any stride.
 */
function layout(
  R: number,
  S: number,
  sR: number,
  sS: number,
): { trans: boolean; ld: number } | undefined {
  if (S === 1 || sS === 1) {
    const ld = R === 1 ? Math.max(S, 1) : sR;
    if (ld >= Math.max(S, 1)) return { trans: false, ld };
  }
  if (R === 1 || sR === 1) {
    const ld = S === 1 ? Math.max(R, 1) : sS;
    if (ld >= Math.max(R, 1)) return { trans: true, ld };
  }
  return undefined;
}

export interface BlasMatmulOptions {
  /** Products (2 M N K flops per run) below this go to `fallback` (default DEFAULT_BLAS_MIN_FLOPS). */
  minFlops?: number;
}

/**
 * A `matmul` CpuKernel on `blas` for float32 (other dtypes and tiny products go to `fallback`).
 * Operands are read in place; batch axes with strides that do not fit one pointer step (or
 * negative strides) are handled by an outer loop or, for the last two axes, packed once.
 */
export function blasMatmulKernel(
  blas: BlasProvider,
  fallback: CpuKernel,
  options: BlasMatmulOptions = {},
): CpuKernel {
  const minFlops = options.minFlops ?? DEFAULT_BLAS_MIN_FLOPS;
  return (call: KernelCall, cpu: CpuBackend) => {
    const mm = float32Matmul(call);
    if (!mm) {
      fallback(call, cpu);
      return;
    }
    const { av, bv, out, M, N, K, batchShape } = mm;
    const r = out.shape.length;
    if (M === 0 || N === 0) return;
    if (2 * M * N * K < minFlops || K === 0) {
      fallback(call, cpu);
      return;
    }
    const C = cpu.array(out) as Float32Array;
    const operand = (v: TensorView, R: number, S: number): Operand => {
      const data = cpu.array(v) as Float32Array;
      const l = v.strides.every((s) => s >= 0)
        ? layout(R, S, v.strides[r - 2]!, v.strides[r - 1]!)
        : undefined;
      if (l) return { data, offset: v.offset, ...l, batchStrides: v.strides.slice(0, r - 2) };
      const packed = new Float32Array(v.shape.reduce((a, b) => a * b, 1));
      packMatrices(data, v, packed);
      const batchStrides = packedBatchStrides(v.shape, R, S);
      return { data: packed, offset: 0, trans: false, ld: Math.max(S, 1), batchStrides };
    };
    const A = operand(av, M, K);
    const B = operand(bv, K, N);
    forEachBatchRun(
      batchShape,
      A.batchStrides,
      B.batchStrides,
      M,
      N,
      K,
      [A.offset, B.offset, out.offset],
      (oa, ob, oc, run) =>
        blas.sgemm(A.data, B.data, C, M, N, K, {
          transA: A.trans,
          transB: B.trans,
          lda: A.ld,
          ldb: B.ld,
          offsetA: oa,
          offsetB: ob,
          offsetC: oc,
          batch: run.size,
          strideA: run.sA,
          strideB: run.sB,
          strideC: run.sC,
        }),
    );
  };
}

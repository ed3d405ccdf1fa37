// What the fast CPU backend's gemms share: the row-major float32 gemm signature (the wasm SIMD
// kernels, the native BLAS provider, the fused routines that call either), and the mapping of a
// matmul KernelCall's strided views onto batched gemm calls (packing, batch-run merging).
import type { KernelCall, TensorView } from '../backend.js';

export interface MatmulOptions {
  /** A is stored [K,M] (row-major), i.e. the product uses A^T. */
  transA?: boolean;
  /** B is stored [N,K], i.e. the product uses B^T. */
  transB?: boolean;
  /** C += op(A) op(B) instead of C = op(A) op(B). */
  accumulate?: boolean;
  /** Number of independent products (default 1). */
  batch?: number;
  /** Elements between consecutive batch items of A (default M*K; 0 broadcasts one A). */
  strideA?: number;
  /** Elements between consecutive batch items of B (default K*N; 0 broadcasts one B). */
  strideB?: number;
  /** Elements between consecutive batch items of C (default M*N). */
  strideC?: number;
}

/** `C[M,N] (+)= op(A)[M,K] op(B)[K,N]` on row-major float32 arrays, with `Options` as flags. */
export type GemmFn<Options, Result = void> = (
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  options?: Options,
) => Result;

/**
 * A gemm with the wasm kernels' `matmul` signature (the wasm kernels themselves, or the native
 * BLAS provider); operands may be subarrays.
 */
export interface Gemm {
  matmul: GemmFn<MatmulOptions>;
}

/** A float32 `matmul` KernelCall's operands and sizes: C[...batch, M, N] = A[..., M, K] B[..., K, N]. */
export interface Float32Matmul {
  av: TensorView;
  bv: TensorView;
  out: TensorView;
  M: number;
  N: number;
  K: number;
  batchShape: number[];
}

/** `call`'s operands and sizes when all three are float32, else undefined (for the fallback). */
export function float32Matmul(call: KernelCall): Float32Matmul | undefined {
  const [av, bv] = call.inputs as [TensorView, TensorView];
  const out = call.output;
  if (av.dtype !== 'float32' || bv.dtype !== 'float32' || out.dtype !== 'float32') return undefined;
  const r = out.shape.length;
  return {
    av,
    bv,
    out,
    M: out.shape[r - 2]!,
    N: out.shape[r - 1]!,
    K: av.shape[r - 1]!,
    batchShape: out.shape.slice(0, r - 2),
  };
}

/** Copies view `v` ([...batch, R, S], any strides) into `out` contiguously. */
export function packMatrices(src: Float32Array, v: TensorView, out: Float32Array): void {
  const r = v.shape.length;
  const R = v.shape[r - 2]!;
  const S = v.shape[r - 1]!;
  const sR = v.strides[r - 2]!;
  const sS = v.strides[r - 1]!;
  const batchShape = v.shape.slice(0, r - 2);
  const batches = batchShape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(batchShape.length).fill(0);
  let o = 0;
  for (let bi = 0; bi < batches; bi++) {
    let base = v.offset;
    for (let d = 0; d < batchShape.length; d++) base += idx[d]! * v.strides[d]!;
    for (let i = 0; i < R; i++) {
      const row = base + i * sR;
      for (let j = 0; j < S; j++) out[o++] = src[row + j * sS]!;
    }
    for (let d = batchShape.length - 1; d >= 0; d--) {
      if (++idx[d]! < batchShape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** Batch-axis strides (elements) of a contiguous [...shape.slice(0, -2), R, S] tensor. */
export function packedBatchStrides(shape: readonly number[], R: number, S: number): number[] {
  const r = shape.length;
  const batchStrides = new Array<number>(r - 2);
  let s = R * S;
  for (let d = r - 3; d >= 0; d--) {
    batchStrides[d] = s;
    s *= shape[d]!;
  }
  return batchStrides;
}

/** One run of uniformly strided batch items: `size` items, strides in elements. */
export interface BatchRun {
  size: number;
  sA: number;
  sB: number;
  sC: number;
}

/**
 * Calls `gemm(offsetA, offsetB, offsetC, run)` once per run of uniformly strided batch items of
 * a batched product C[...batch, M, N] = A[...batch, M, K] B[...batch, K, N], C contiguous from
 * `offsets[2]`. Batch axes whose strides line up merge into one run (the innermost, passed as
 * `run`, goes to the gemm's own batch loop); the rest are walked here. Size-1 axes are skipped.
 */
export function forEachBatchRun(
  batchShape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
  M: number,
  N: number,
  K: number,
  offsets: readonly [number, number, number],
  gemm: (offsetA: number, offsetB: number, offsetC: number, run: BatchRun) => void,
): void {
  const dims: BatchRun[] = [];
  let sC = M * N;
  const cStrides = new Array<number>(batchShape.length);
  for (let d = batchShape.length - 1; d >= 0; d--) {
    cStrides[d] = sC;
    sC *= batchShape[d]!;
  }
  for (let d = 0; d < batchShape.length; d++) {
    const size = batchShape[d]!;
    if (size === 1) continue;
    const next = { size, sA: aStrides[d]!, sB: bStrides[d]!, sC: cStrides[d]! };
    const last = dims[dims.length - 1];
    if (
      last &&
      last.sA === next.sA * size &&
      last.sB === next.sB * size &&
      last.sC === next.sC * size
    ) {
      last.size *= size;
      last.sA = next.sA;
      last.sB = next.sB;
      last.sC = next.sC;
    } else dims.push(next);
  }
  const inner = dims.pop() ?? { size: 1, sA: M * K, sB: K * N, sC: M * N };
  const outer = dims.reduce((a, d) => a * d.size, 1);
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < outer; o++) {
    let oa = offsets[0];
    let ob = offsets[1];
    let oc = offsets[2];
    for (let d = 0; d < dims.length; d++) {
      oa += idx[d]! * dims[d]!.sA;
      ob += idx[d]! * dims[d]!.sB;
      oc += idx[d]! * dims[d]!.sC;
    }
    gemm(oa, ob, oc, inner);
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++idx[d]! < dims[d]!.size) break;
      idx[d] = 0;
    }
  }
}

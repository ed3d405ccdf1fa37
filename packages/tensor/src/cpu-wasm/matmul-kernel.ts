// The CPU backend's `matmul` kernel on the wasm SIMD gemm: maps a KernelCall's strided views to
// one gemm call per run of uniformly strided batch items, with transposed operands as flags.
import type { KernelCall, TensorView } from '../backend.js';
import type { CpuBackend, CpuKernel } from '../cpu/cpu-backend.js';
import { float32Matmul, forEachBatchRun, packedBatchStrides, packMatrices } from '../cpu/gemm.js';
import type { WasmKernels } from './wasm-kernels.js';

/** How one operand's last two axes [R, S] reach gemm. */
interface Operand {
  data: Float32Array;
  offset: number;
  /** Stored as [S, R] (the gemm transpose flag). */
  trans: boolean;
  /** Strides of the batch axes (elements). */
  batchStrides: number[];
}

/**
 * Whether [R, S] with strides (sR, sS) is row-major [R, S] (`false`), row-major [S, R] read
 * transposed (`true`), or neither (`undefined`: needs packing). Size-1 axes match any stride.
 */
function layout(R: number, S: number, sR: number, sS: number): boolean | undefined {
  if ((S === 1 || sS === 1) && (R === 1 || sR === S)) return false;
  if ((R === 1 || sR === 1) && (S === 1 || sS === R)) return true;
  return undefined;
}

/** Grow-only scratch for packed operands, in the kernels' heap so gemm reads it in place. */
class PackScratch {
  private view: Float32Array | undefined;
  constructor(private readonly mm: WasmKernels) {}
  get(length: number): Float32Array {
    if (!this.view || this.view.length < length) {
      if (this.view && this.mm.heap.shared) this.mm.heap.free(this.view);
      this.view = this.mm.heap.shared
        ? this.mm.heap.alloc(Math.max(length, 1024))
        : new Float32Array(Math.max(length, 1024));
    }
    return this.view;
  }
}

/**
 * A `matmul` CpuKernel on `mm`. float32 only (other dtypes go to `fallback`). Operands whose
 * last two axes are neither row-major nor a transposed row-major matrix (e.g. a head slice of a
 * fused qkv projection) are packed once into heap scratch, O((M + N) K) next to O(M N K) work.
 */
export function wasmMatmulKernel(mm: WasmKernels, fallback: CpuKernel): CpuKernel {
  const scratchA = new PackScratch(mm);
  const scratchB = new PackScratch(mm);
  return (call: KernelCall, cpu: CpuBackend) => {
    const f = float32Matmul(call);
    if (!f) {
      fallback(call, cpu);
      return;
    }
    const { av, bv, out, M, N, K, batchShape } = f;
    const r = out.shape.length;
    const C = cpu.array(out) as Float32Array;
    const operand = (v: TensorView, R: number, S: number, scratch: PackScratch): Operand => {
      const data = cpu.array(v) as Float32Array;
      const t = layout(R, S, v.strides[r - 2]!, v.strides[r - 1]!);
      if (t !== undefined) {
        return { data, offset: v.offset, trans: t, batchStrides: v.strides.slice(0, r - 2) };
      }
      const size = v.shape.reduce((a, b) => a * b, 1);
      const packed = scratch.get(size);
      packMatrices(data, v, packed);
      const batchStrides = packedBatchStrides(v.shape, R, S);
      return { data: packed, offset: 0, trans: false, batchStrides };
    };
    if (M === 0 || N === 0) return;
    const A = operand(av, M, K, scratchA);
    const B = operand(bv, K, N, scratchB);
    if (K === 0) {
      C.fill(0, out.offset, out.offset + batchShape.reduce((a, b) => a * b, 1) * M * N);
      return;
    }
    forEachBatchRun(
      batchShape,
      A.batchStrides,
      B.batchStrides,
      M,
      N,
      K,
      [A.offset, B.offset, out.offset],
      (oa, ob, oc, run) => {
        const spanA = (run.size - 1) * run.sA + M * K;
        const spanB = (run.size - 1) * run.sB + K * N;
        const spanC = (run.size - 1) * run.sC + M * N;
        mm.matmul(
          A.data.subarray(oa, oa + spanA),
          B.data.subarray(ob, ob + spanB),
          C.subarray(oc, oc + spanC),
          M,
          N,
          K,
          {
            transA: A.trans,
            transB: B.trans,
            batch: run.size,
            strideA: run.sA,
            strideB: run.sB,
            strideC: run.sC,
          },
        );
      },
    );
  };
}

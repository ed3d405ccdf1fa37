// The CPU backend's `matmul` kernel on the wasm SIMD gemm: maps a KernelCall's strided views to
// one gemm call per run of uniformly strided batch items, with transposed operands as flags.
import type { KernelCall, TensorView } from '../backend.js';
import type { CpuBackend, CpuKernel } from '../cpu/cpu-backend.js';
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

/** Copies view `v` ([...batch, R, S], any strides) into `out` contiguously. */
function pack(src: Float32Array, v: TensorView, out: Float32Array): void {
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

/**
 * A `matmul` CpuKernel on `mm`. float32 only (other dtypes go to `fallback`). Operands whose
 * last two axes are neither row-major nor a transposed row-major matrix (e.g. a head slice of a
 * fused qkv projection) are packed once into heap scratch, O((M + N) K) next to O(M N K) work.
 */
export function wasmMatmulKernel(mm: WasmKernels, fallback: CpuKernel): CpuKernel {
  const scratchA = new PackScratch(mm);
  const scratchB = new PackScratch(mm);
  return (call: KernelCall, cpu: CpuBackend) => {
    const [av, bv] = call.inputs as [TensorView, TensorView];
    const out = call.output;
    if (av.dtype !== 'float32' || bv.dtype !== 'float32' || out.dtype !== 'float32') {
      fallback(call, cpu);
      return;
    }
    const r = out.shape.length;
    const M = out.shape[r - 2]!;
    const N = out.shape[r - 1]!;
    const K = av.shape[r - 1]!;
    const batchShape = out.shape.slice(0, r - 2);
    const C = cpu.array(out) as Float32Array;
    const operand = (v: TensorView, R: number, S: number, scratch: PackScratch): Operand => {
      const data = cpu.array(v) as Float32Array;
      const t = layout(R, S, v.strides[r - 2]!, v.strides[r - 1]!);
      if (t !== undefined) {
        return { data, offset: v.offset, trans: t, batchStrides: v.strides.slice(0, r - 2) };
      }
      const size = v.shape.reduce((a, b) => a * b, 1);
      const packed = scratch.get(size);
      pack(data, v, packed);
      const batchStrides = new Array<number>(r - 2);
      let s = R * S;
      for (let d = r - 3; d >= 0; d--) {
        batchStrides[d] = s;
        s *= v.shape[d]!;
      }
      return { data: packed, offset: 0, trans: false, batchStrides };
    };
    if (M === 0 || N === 0) return;
    const A = operand(av, M, K, scratchA);
    const B = operand(bv, K, N, scratchB);
    if (K === 0) {
      C.fill(0, out.offset, out.offset + batchShape.reduce((a, b) => a * b, 1) * M * N);
      return;
    }
    // Merge batch axes into runs of uniform stride (contiguous C: stride M*N*inner).
    const dims: { size: number; sA: number; sB: number; sC: number }[] = [];
    let sC = M * N;
    const cStrides = new Array<number>(batchShape.length);
    for (let d = batchShape.length - 1; d >= 0; d--) {
      cStrides[d] = sC;
      sC *= batchShape[d]!;
    }
    for (let d = 0; d < batchShape.length; d++) {
      const size = batchShape[d]!;
      if (size === 1) continue;
      const next = { size, sA: A.batchStrides[d]!, sB: B.batchStrides[d]!, sC: cStrides[d]! };
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
    const spanA = (inner.size - 1) * inner.sA + M * K;
    const spanB = (inner.size - 1) * inner.sB + K * N;
    const spanC = (inner.size - 1) * inner.sC + M * N;
    const opts = {
      transA: A.trans,
      transB: B.trans,
      batch: inner.size,
      strideA: inner.sA,
      strideB: inner.sB,
      strideC: inner.sC,
    };
    const outer = dims.reduce((a, d) => a * d.size, 1);
    const idx = new Array<number>(dims.length).fill(0);
    for (let o = 0; o < outer; o++) {
      let oa = A.offset;
      let ob = B.offset;
      let oc = out.offset;
      for (let d = 0; d < dims.length; d++) {
        oa += idx[d]! * dims[d]!.sA;
        ob += idx[d]! * dims[d]!.sB;
        oc += idx[d]! * dims[d]!.sC;
      }
      mm.matmul(
        A.data.subarray(oa, oa + spanA),
        B.data.subarray(ob, ob + spanB),
        C.subarray(oc, oc + spanC),
        M,
        N,
        K,
        opts,
      );
      for (let d = dims.length - 1; d >= 0; d--) {
        if (++idx[d]! < dims[d]!.size) break;
        idx[d] = 0;
      }
    }
  };
}

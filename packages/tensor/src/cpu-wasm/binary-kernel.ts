// The fast backend's add/sub/mul/div kernels: float32 operands that are one contiguous run
// each (same shape, a scalar, or a broadcast trailing block such as a bias row) go to the wasm
// SIMD `binary`; everything else (strided views, other dtypes, small tensors) to the reference
// kernel. V8 runs the reference row loops at several ns per element; the wasm kernel with its
// copies in and out of the heap costs well under one (bias and residual adds, gradient sums).
import type { KernelCall, TensorView } from '../backend.js';
import type { CpuBackend, CpuKernel } from '../cpu/cpu-backend.js';
import type { BinaryRowOp, ElementwiseKernels } from './elementwise.js';

/** Elements below which the reference kernel runs (the wasm call's fixed cost is ~1 us). */
export const WASM_BINARY_MIN_ELEMENTS = 512;

/**
 * Length of the contiguous trailing block `v` repeats over `shape` (its size when contiguous,
 * 1 for a broadcast scalar), or -1 when `v` is not such a run.
 */
export function broadcastPeriod(v: TensorView, shape: readonly number[]): number {
  const st = v.strides;
  let i = shape.length - 1;
  let s = 1;
  while (i >= 0 && (shape[i] === 1 || st[i] === s)) {
    s *= shape[i]!;
    i--;
  }
  for (; i >= 0; i--) if (shape[i] !== 1 && st[i] !== 0) return -1;
  return s;
}

/**
 * `v` over `shape` as rows of its last axis: element (r, c) at `v.offset + r * rowStride + c`
 * (the leading axes collapse into one stride, 0 for a broadcast), or undefined when they do not.
 */
export function rowLayout(v: TensorView, shape: readonly number[]): Rows | undefined {
  const d = shape.length;
  if (d < 2) return undefined;
  const cols = shape[d - 1]!;
  if (cols !== 1 && v.strides[d - 1] !== 1) return undefined;
  let rows = 1;
  let rowStride = cols;
  let want = -1;
  for (let i = d - 2; i >= 0; i--) {
    const n = shape[i]!;
    if (n === 1) continue;
    const st = v.strides[i]!;
    if (want === -1) rowStride = st;
    else if (st !== want) return undefined;
    want = st * n;
    rows *= n;
  }
  return { rows, cols, rowStride };
}

/** Rows at least this long take the row loop below instead of the reference kernel. */
const ROW_LOOP_MIN_COLS = 32;
/** Rows at least this long go to the wasm `binary` one row per call (fixed cost well below a us). */
const ROW_WASM_MIN_COLS = 128;

type Rows = { rows: number; cols: number; rowStride: number };

/**
 * out (op)= a, b row by row, where all three are rows of their last axis (e.g. the q, k or v
 * third of a fused projection's gradient written in place): long rows one wasm `binary` call
 * each, short ones a plain loop (V8: ~1-2 ns per element, against the reference kernel's
 * general strided walk).
 */
function rowLoop(
  mm: Pick<ElementwiseKernels, 'binary'>,
  op: 'add' | 'sub' | 'mul' | 'div',
  o: Float32Array,
  out: { offset: number } & Rows,
  x: Float32Array,
  a: { offset: number; rowStride: number },
  y: Float32Array,
  b: { offset: number; rowStride: number },
): void {
  const { rows, cols } = out;
  for (let r = 0; r < rows; r++) {
    const po = out.offset + r * out.rowStride;
    const pa = a.offset + r * a.rowStride;
    const pb = b.offset + r * b.rowStride;
    if (cols >= ROW_WASM_MIN_COLS) {
      mm.binary(
        op,
        o.subarray(po, po + cols),
        x.subarray(pa, pa + cols),
        y.subarray(pb, pb + cols),
      );
    } else if (op === 'add') for (let c = 0; c < cols; c++) o[po + c] = x[pa + c]! + y[pb + c]!;
    else if (op === 'sub') for (let c = 0; c < cols; c++) o[po + c] = x[pa + c]! - y[pb + c]!;
    else if (op === 'mul') for (let c = 0; c < cols; c++) o[po + c] = x[pa + c]! * y[pb + c]!;
    else for (let c = 0; c < cols; c++) o[po + c] = x[pa + c]! / y[pb + c]!;
  }
}

const SWAPPED: Record<'add' | 'sub' | 'mul' | 'div', BinaryRowOp> = {
  add: 'add',
  sub: 'rsub',
  mul: 'mul',
  div: 'rdiv',
};

/** A `add`/`sub`/`mul`/`div` CpuKernel on the wasm `binary`, else `fallback`. */
export function wasmBinaryKernel(
  mm: Pick<ElementwiseKernels, 'binary'>,
  op: 'add' | 'sub' | 'mul' | 'div',
  fallback: CpuKernel,
): CpuKernel {
  return (call: KernelCall, cpu: CpuBackend) => {
    const [a, b] = call.inputs as [TensorView, TensorView];
    const out = call.output;
    const shape = out.shape;
    let n = 1;
    for (let i = 0; i < shape.length; i++) n *= shape[i]!;
    if (
      n < WASM_BINARY_MIN_ELEMENTS ||
      out.dtype !== 'float32' ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32'
    ) {
      fallback(call, cpu);
      return;
    }
    if (broadcastPeriod(out, shape) !== n) {
      // a strided output: rows of a wider tensor (else the reference kernel)
      const lo = rowLayout(out, shape);
      const la = lo && rowLayout(a, shape);
      const lb = la && rowLayout(b, shape);
      if (!lo || !la || !lb || lo.cols < ROW_LOOP_MIN_COLS) {
        fallback(call, cpu);
        return;
      }
      rowLoop(
        mm,
        op,
        cpu.array(out) as Float32Array,
        { ...lo, offset: out.offset },
        cpu.array(a) as Float32Array,
        { rowStride: la.rowStride, offset: a.offset },
        cpu.array(b) as Float32Array,
        { rowStride: lb.rowStride, offset: b.offset },
      );
      return;
    }
    const pa = broadcastPeriod(a, shape);
    const pb = broadcastPeriod(b, shape);
    const o = (cpu.array(out) as Float32Array).subarray(out.offset, out.offset + n);
    const x = cpu.array(a) as Float32Array;
    const y = cpu.array(b) as Float32Array;
    if (pa === n && pb > 0) {
      mm.binary(op, o, x.subarray(a.offset, a.offset + n), y.subarray(b.offset, b.offset + pb));
    } else if (pb === n && pa > 0) {
      mm.binary(
        SWAPPED[op],
        o,
        y.subarray(b.offset, b.offset + n),
        x.subarray(a.offset, a.offset + pa),
      );
    } else fallback(call, cpu);
  };
}

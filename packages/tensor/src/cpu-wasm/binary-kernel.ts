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
      b.dtype !== 'float32' ||
      broadcastPeriod(out, shape) !== n
    ) {
      fallback(call, cpu);
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

/** Reference CPU reductions over the trailing `inner` elements of a contiguous `[outer, inner]` input. */
import type { ReduceKernel } from '../backend.js';
import { shapeSize } from '../shape.js';
import type { CpuKernel } from './cpu-backend.js';

function reduceKernel(op: ReduceKernel): CpuKernel<ReduceKernel> {
  return (call, cpu) => {
    const [a] = call.inputs;
    const x = cpu.array(a);
    const o = cpu.array(call.output);
    const inner = call.attrs.inner;
    const outer = shapeSize(call.output.shape);
    const oo = call.output.offset;
    for (let r = 0; r < outer; r++) {
      const s = a.offset + r * inner;
      const e = s + inner;
      if (op === 'sum') {
        // JS numbers are doubles: the accumulator is float64 whatever the storage dtype.
        let acc = 0;
        for (let i = s; i < e; i++) acc += x[i];
        o[oo + r] = acc;
      } else if (op === 'max') {
        let m = Number.NEGATIVE_INFINITY;
        for (let i = s; i < e; i++) {
          const v = x[i];
          if (v > m || Number.isNaN(v)) m = v;
          if (Number.isNaN(m)) break;
        }
        o[oo + r] = m;
      } else if (op === 'min') {
        let m = Number.POSITIVE_INFINITY;
        for (let i = s; i < e; i++) {
          const v = x[i];
          if (v < m || Number.isNaN(v)) m = v;
          if (Number.isNaN(m)) break;
        }
        o[oo + r] = m;
      } else {
        // First index of the maximum, as in NumPy and PyTorch.
        let m = Number.NEGATIVE_INFINITY;
        let best = 0;
        for (let i = s; i < e; i++) {
          if (x[i] > m) {
            m = x[i];
            best = i - s;
          }
        }
        o[oo + r] = best;
      }
    }
  };
}

export const reduceKernels: Record<string, CpuKernel> = {
  sum: reduceKernel('sum'),
  max: reduceKernel('max'),
  min: reduceKernel('min'),
  argmax: reduceKernel('argmax'),
};

/** Converting a tensor to another dtype (an op: float -> float casts carry gradients). */
import { checkDType, type DType, isFloatDType } from '../dtype.js';
import { noGrad } from '../engine.js';
import { defineOp } from '../op-table.js';
import type { Tensor } from '../tensor.js';

const castOp = defineOp<{ dtype: DType }>({
  name: 'cast',
  kind: 'primitive',
  doc: 'converts to another dtype (float -> int32 truncates toward zero)',
  differentiable: true,
  tolerance: { rtol: 0, atol: 0 },
  forward: ([x], { dtype }) => {
    const out = x.newEmpty(x.shape, dtype, 'cast');
    x.backend.run({ kernel: 'cast', inputs: [x.view()], output: out.view(), attrs: {} });
    return out;
  },
  backward: (g, ctx) => [
    isFloatDType(ctx.inputDTypes[0] as DType) ? cast(g, ctx.inputDTypes[0] as DType) : null,
  ],
});

/** Converts `x` to `dtype` (a copy; the same dtype gives a copy too). */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkDType(dtype, 'cast');
  if (!isFloatDType(dtype) && x.requiresGrad) return noGrad(() => castOp([x], { dtype }));
  return castOp([x], { dtype });
}

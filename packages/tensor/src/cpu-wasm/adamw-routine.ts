// AdamW in one wasm SIMD pass over param, grad, m and v (assembly/elementwise.ts): the `adamwStep`
// routine of the fast CPU backend. `adamwStep` (ops/adamw.ts) checks shapes, dtypes and
// contiguity and derives the float32 constants in float64 before it calls the routine.
import { f32 } from '../cpu/tensor-f32.js';
import type { AdamWRoutineAttrs } from '../ops/adamw.js';
import type { Routine } from '../routine.js';
import type { Tensor } from '../tensor.js';
import type { ElementwiseKernels } from './elementwise.js';

/** Inputs [param, grad, m, v] (contiguous float32, one shape); updates param, m, v in place. */
export function wasmAdamWRoutine(
  ew: ElementwiseKernels,
): Routine<AdamWRoutineAttrs> & { path: 'wasm' } {
  return {
    path: 'wasm',
    forward(inputs, attrs) {
      const [param, grad, m, v] = inputs as [Tensor, Tensor, Tensor, Tensor];
      ew.adamwUpdate(f32(param), f32(grad), f32(m), f32(v), attrs);
      // Routines return a tensor; this one is an alias of the updated param (the caller frees it).
      return param.alias();
    },
  };
}

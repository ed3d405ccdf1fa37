// GELU (tanh approximation) forward and backward on the wasm SIMD kernels (assembly/exp-kernels.ts):
// the fused routine of ../cpu/fused-routines.ts with its per-element Math.exp replaced by the
// f32x4 vector exp (float32 arithmetic instead of float64; the conformance suite's GELU
// tolerance holds). In a profile of a GPT-2 micro training step the JavaScript routine took
// ~13% of the samples.
import { f32 } from '../cpu/tensor-f32.js';
import { dense } from '../fused-frames.js';
import type { NoAttrs, Routine } from '../routine.js';
import { Tensor } from '../tensor.js';
import type { WasmKernels } from './wasm-kernels.js';

/** The `gelu` routine on `mm`: saves only x (backward recomputes the exp). */
export function wasmGeluRoutine(mm: WasmKernels): Routine<NoAttrs> {
  return {
    forward([input], _attrs, ctx) {
      const x = dense(input!);
      const y = Tensor.empty(x.backend, x.shape, 'float32', 'gelu');
      mm.gelu(f32(x), f32(y));
      ctx.save(ctx.needsGrad[0] ? x : undefined);
      x.dispose();
      return y;
    },
    backward(grad, ctx) {
      const [x] = ctx.saved as [Tensor];
      const g = dense(grad);
      const dx = Tensor.empty(x.backend, x.shape, 'float32', 'gelu-backward');
      mm.geluBackward(f32(x), f32(g), f32(dx));
      g.dispose();
      return [dx];
    },
  };
}

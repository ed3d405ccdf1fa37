// LayerNorm forward and backward on the wasm SIMD kernels (assembly/norm.ts): the fused routine
// of ../cpu/fused-routines.ts with its float64 JavaScript row loops replaced by f32x4 passes
// (float32 sums in four lanes; the conformance suite's LayerNorm tolerances hold). In the
// transformer-block bench the JavaScript routine was one of the larger non-matmul costs.
import { f32 } from '../cpu/tensor-f32.js';
import { normRoutineFrame } from '../fused-frames.js';
import type { NormAttrs, Routine } from '../routine.js';
import type { WasmKernels } from './wasm-kernels.js';

/** The `layerNorm` routine on `mm` (saves x, the weight and the per-row mean and 1/std). */
export function wasmLayerNormRoutine(mm: WasmKernels): Routine<NormAttrs> {
  const opt = (t: Parameters<typeof f32>[0] | undefined) => (t ? f32(t) : undefined);
  return normRoutineFrame('layerNorm', {
    forward({ x, w, b, y, stats, rows, C, eps }) {
      if (rows === 0) return;
      mm.layerNorm({ x: f32(x), w: opt(w), b: opt(b), y: f32(y), stats: f32(stats), rows, C, eps });
    },
    backward({ x, w, g, stats, rows, C, dx, dw, db }) {
      mm.layerNormBackward({
        x: f32(x),
        w: opt(w),
        g: f32(g),
        stats: f32(stats),
        rows,
        C,
        dx: opt(dx),
        dw: opt(dw),
        db: opt(db),
      });
    },
  });
}

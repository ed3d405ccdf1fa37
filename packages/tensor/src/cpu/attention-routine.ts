/**
 * Scaled dot-product attention with the scale, causal mask and softmax (and their gradients)
 * fused into one pass per score row; the four products go through `matmul` (the wasm gemm on the
 * fast CPU backend, transposes as flags). Replaces the composition's mul, arange/le/where mask,
 * and the softmax's max/sub/exp/sum/div with their backward rules. The probabilities P
 * [..., T, S] are kept for backward, as in the composition (blockwise-attention.ts is the
 * recomputing variant that never holds all of P; it falls back to this one for odd shapes).
 */
import { materializedAttentionRoutine } from '../fused-frames.js';
import { f32 } from './tensor-f32.js';

export const attentionRoutine = materializedAttentionRoutine({
  softmax(p, causal, scale) {
    const T = p.shape[p.rank - 2]!;
    const S = p.shape[p.rank - 1]!;
    const ps = f32(p);
    const rows = T === 0 ? 0 : p.size / S;
    for (let r = 0; r < rows; r++) {
      const o = r * S;
      // The composition's mask: key j is visible to query i when j <= i.
      const n = causal ? Math.min(S, (r % T) + 1) : S;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) {
        const s = ps[o + j]! * scale;
        ps[o + j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(ps[o + j]! - max);
        ps[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < n; j++) ps[o + j] = ps[o + j]! * inv;
      ps.fill(0, o + n, o + S);
    }
  },
  softmaxBackward(ds, p, scale) {
    const S = ds.shape[ds.rank - 1]!;
    const d = f32(ds);
    const ps = f32(p);
    const rows = S === 0 ? 0 : ds.size / S;
    for (let r = 0; r < rows; r++) {
      const o = r * S;
      let dot = 0;
      for (let j = 0; j < S; j++) dot += d[o + j]! * ps[o + j]!;
      for (let j = 0; j < S; j++) d[o + j] = scale * ps[o + j]! * (d[o + j]! - dot);
    }
  },
});

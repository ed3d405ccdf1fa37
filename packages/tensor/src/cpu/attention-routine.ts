/**
 * Scaled dot-product attention with the scale, causal mask and softmax (and their gradients)
 * fused into one pass per score row; the four products go through `matmul` (the wasm gemm on the
 * fast CPU backend, transposes as flags). Replaces the composition's mul, arange/le/where mask,
 * and the softmax's max/sub/exp/sum/div with their backward rules. The probabilities P
 * [..., T, S] are kept for backward, as in the composition (a blockwise, recomputing variant
 * that never holds all of P is the remaining step of issue 6).
 */
import type { Routine } from '../backend.js';
import { sumTo } from '../ops/reduce.js';
import type { Tensor } from '../tensor.js';
import type { CpuBackend } from './cpu-backend.js';

interface Attrs {
  causal: boolean;
  scale: number;
}

function data(t: Tensor): Float32Array {
  const v = t.view();
  return ((t.backend as CpuBackend).array(v) as Float32Array).subarray(v.offset, v.offset + t.size);
}

export const attentionRoutine: Routine = {
  forward([q, k, v], { causal, scale }: Attrs, ctx) {
    const p = q!.matmul(k!.mT); // fresh, contiguous [..., T, S]: softmax in place
    const T = p.shape[p.rank - 2]!;
    const S = p.shape[p.rank - 1]!;
    const ps = data(p);
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
    const out = p.matmul(v!);
    const need = ctx.needsGrad;
    ctx.save(
      need[1] ? q : undefined,
      need[0] ? k : undefined,
      need[0] || need[1] ? v : undefined,
      p,
    );
    p.dispose();
    return out;
  },
  backward(g, ctx) {
    const [q, k, v, p] = ctx.saved as [Tensor, Tensor, Tensor, Tensor];
    const { scale } = ctx.attrs as Attrs;
    const need = ctx.needsGrad;
    const dv = need[2] ? sumTo(p.mT.matmul(g), ctx.inputShapes[2]!) : null;
    let dq: Tensor | null = null;
    let dk: Tensor | null = null;
    if (need[0] || need[1]) {
      // dS = scale * P (dP - rowsum(dP P)), in place over dP = g v^T (masked entries: P = 0).
      const ds = g.matmul(v.mT);
      const S = ds.shape[ds.rank - 1]!;
      const d = data(ds);
      const ps = data(p);
      const rows = S === 0 ? 0 : ds.size / S;
      for (let r = 0; r < rows; r++) {
        const o = r * S;
        let dot = 0;
        for (let j = 0; j < S; j++) dot += d[o + j]! * ps[o + j]!;
        for (let j = 0; j < S; j++) d[o + j] = scale * ps[o + j]! * (d[o + j]! - dot);
      }
      if (need[0]) dq = sumTo(ds.matmul(k), ctx.inputShapes[0]!);
      if (need[1]) dk = sumTo(ds.mT.matmul(q), ctx.inputShapes[1]!);
      ds.dispose();
    }
    return [dq, dk, dv];
  },
};

/**
 * Scaled dot-product attention on CUDA: the blockwise kernels of cuda/attention.cu (forward
 * with an online softmax, FlashAttention-2 backward recomputing the probabilities from the
 * per-row log-sum-exp), so the [..., T, S] probabilities never exist. q, k, v are read in place
 * when their rows are unit-stride (heads permuted out of a fused qkv projection); broadcast batch
 * axes (shared key/value heads) get per-head gradients summed back to the input shape. Head
 * sizes above 128, batch ranks above 4 and empty tensors use the materialized path: the four
 * products on cuBLAS around a fused scaled-masked softmax row kernel.
 */
import type { TensorView } from '../backend.js';
import { dense, materializedAttentionRoutine } from '../fused-frames.js';
import { sumTo } from '../ops/reduce.js';
import type { AttentionAttrs, Routine } from '../routine.js';
import { Tensor } from '../tensor.js';
import type { CudaBackend } from './backend.js';
import type { Args } from './params.js';

type Attrs = AttentionAttrs;

const cudaOf = (t: Tensor) => t.backend as CudaBackend;
const BR = 64;
const BC = 32;
const MAX_BATCH_RANK = 4;

/** Head-size bucket of the kernels (32, 64, 128) for d and dv, or 0 when too large. */
export function headBucket(d: number, dv: number): number {
  const m = Math.max(d, dv);
  return m <= 32 ? 32 : m <= 64 ? 64 : m <= 128 ? 128 : 0;
}

/** Dynamic shared memory (bytes) of each kernel for head sizes d, dv. */
export function attentionSmem(d: number, dv: number): { fwd: number; dq: number; dkdv: number } {
  return {
    fwd: 4 * (BR * (d + 1) + BC * d + BC * dv),
    dq: 4 * (BR * (d + 1) + BR * (dv + 1) + BC * d + BC * dv),
    dkdv: 4 * (BR * (d + 1) + BR * (dv + 1) + BC * d + BC * dv + 2 * BC),
  };
}

/**
 * The broadcast batch shape of q [..., T, d], k [..., S, d], v [..., S, dv] (same rank, each
 * batch axis equal or 1), or undefined when the blockwise kernels do not apply.
 */
export function attentionBatch(
  q: readonly number[],
  k: readonly number[],
  v: readonly number[],
): number[] | undefined {
  const r = q.length;
  if (r < 2 || k.length !== r || v.length !== r || r - 2 > MAX_BATCH_RANK) return undefined;
  const out: number[] = [];
  for (let i = 0; i < r - 2; i++) {
    const n = Math.max(q[i]!, k[i]!, v[i]!);
    for (const s of [q, k, v]) if (s[i] !== n && s[i] !== 1) return undefined;
    out.push(n);
  }
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (size(q) === 0 || size(k) === 0 || size(v) === 0) return undefined;
  if (!headBucket(q[r - 1]!, v[r - 1]!)) return undefined;
  return out;
}

/** `t` itself when its rows are unit-stride (any row stride), else a contiguous copy. */
function rowsReadable(t: Tensor): Tensor {
  const r = t.rank;
  const ok = t.shape[r - 1] === 1 || t.strides[r - 1] === 1;
  const ld = t.shape[r - 2] === 1 ? t.shape[r - 1]! : t.strides[r - 2]!;
  return ok && ld >= t.shape[r - 1]! && t.strides.every((s) => s >= 0) ? t.alias() : t.contiguous();
}

/** Batch strides of `t` broadcast to `batch` (0 where it has length 1). */
const batchStrides = (t: Tensor, batch: number[]) =>
  batch.map((_, i) => (t.shape[i] === 1 ? 0 : t.strides[i]!));
const rowStride = (t: Tensor) =>
  t.shape[t.rank - 2] === 1 ? t.shape[t.rank - 1]! : t.strides[t.rank - 2]!;

/** AttnParams (cuda/attention.cu) in field order. */
function packAttention(
  a: Args,
  cuda: CudaBackend,
  t: {
    q: Tensor;
    k: Tensor;
    v: Tensor;
    o?: Tensor;
    lse?: Tensor;
    dO?: Tensor;
    D?: Tensor;
    dq?: Tensor;
    dk?: Tensor;
    dv?: Tensor;
  },
  batch: number[],
  attrs: Attrs,
): void {
  const p = (x?: Tensor) =>
    x ? cuda.ptr(x.view()) + (x === t.q || x === t.k || x === t.v ? 0 : x.offset * 4) : 0;
  a.i(p(t.q))
    .i(p(t.k))
    .i(p(t.v))
    .i(p(t.o))
    .i(p(t.lse))
    .i(p(t.dO))
    .i(p(t.D))
    .i(p(t.dq))
    .i(p(t.dk))
    .i(p(t.dv));
  const r = t.q.rank;
  a.i(t.q.shape[r - 2]!)
    .i(t.k.shape[r - 2]!)
    .i(t.q.shape[r - 1]!)
    .i(t.v.shape[r - 1]!);
  a.i(batch.length).ints(batch, MAX_BATCH_RANK, 1);
  for (const x of [t.q, t.k, t.v]) a.ints(batchStrides(x, batch), MAX_BATCH_RANK);
  a.i(t.q.offset).i(t.k.offset).i(t.v.offset);
  a.i(rowStride(t.q)).i(rowStride(t.k)).i(rowStride(t.v));
  a.i(attrs.causal ? 1 : 0).f(attrs.scale);
}

const materialized = materializedAttentionRoutine({
  softmax(p, causal, scale) {
    const T = p.shape[p.rank - 2]!;
    const S = p.shape[p.rank - 1]!;
    const rows = S === 0 ? 0 : p.size / S;
    const cuda = cudaOf(p);
    // AttnRowParams: s, p, rows, S, T, causal, scale
    cuda.launchRows('lrw_attn_softmax', rows, S, (a) =>
      a
        .i(cuda.ptr(p.view()) + p.offset * 4)
        .i(0)
        .i(rows)
        .i(S)
        .i(T)
        .i(causal ? 1 : 0)
        .f(scale),
    );
  },
  softmaxBackward(ds, p, scale) {
    const S = ds.shape[ds.rank - 1]!;
    const rows = S === 0 ? 0 : ds.size / S;
    const cuda = cudaOf(ds);
    cuda.launchRows('lrw_attn_softmax_bwd', rows, S, (a) =>
      a
        .i(cuda.ptr(ds.view()) + ds.offset * 4)
        .i(cuda.ptr(p.view()) + p.offset * 4)
        .i(rows)
        .i(S)
        .i(1)
        .i(0)
        .f(scale),
    );
  },
});

export const attentionRoutine: Routine<Attrs> = {
  forward(inputs, attrs, ctx) {
    const [qi, ki, vi] = inputs as [Tensor, Tensor, Tensor];
    const batch = attentionBatch(qi.shape, ki.shape, vi.shape);
    if (!batch || qi.dtype !== 'float32') return materialized.forward(inputs, attrs, ctx);
    const cuda = cudaOf(qi);
    const q = rowsReadable(qi);
    const k = rowsReadable(ki);
    const v = rowsReadable(vi);
    const r = q.rank;
    const T = q.shape[r - 2]!;
    const d = q.shape[r - 1]!;
    const dv = v.shape[r - 1]!;
    const heads = batch.reduce((x, y) => x * y, 1);
    const o = Tensor.empty(q.backend, [...batch, T, dv], 'float32', 'sdpa');
    const lse = Tensor.empty(q.backend, [heads * T], 'float32', 'sdpa-lse');
    const bucket = headBucket(d, dv);
    const smem = attentionSmem(d, dv);
    cuda.launch(
      `lrw_attn_fwd_${bucket}`,
      [Math.ceil(T / BR), heads, 1],
      BR,
      (a) => packAttention(a, cuda, { q, k, v, o, lse }, batch, attrs),
      smem.fwd,
    );
    const need = ctx.needsGrad;
    if (need[0] || need[1] || need[2]) ctx.save(q, k, v, o, lse);
    for (const t of [q, k, v, lse]) t.dispose();
    return o;
  },
  backward(grad, ctx) {
    if (ctx.saved.length !== 5) return materialized.backward!(grad, ctx);
    const [q, k, v, o, lse] = ctx.saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const attrs = ctx.attrs;
    const cuda = cudaOf(q);
    const r = q.rank;
    const T = q.shape[r - 2]!;
    const S = k.shape[r - 2]!;
    const d = q.shape[r - 1]!;
    const dvLen = v.shape[r - 1]!;
    const batch = o.shape.slice(0, r - 2);
    const heads = batch.reduce((x, y) => x * y, 1);
    const dO = dense(grad);
    const D = Tensor.empty(q.backend, [heads * T], 'float32', 'sdpa-D');
    const dq = Tensor.empty(q.backend, [...batch, T, d], 'float32', 'sdpa-dq');
    const dk = Tensor.empty(q.backend, [...batch, S, d], 'float32', 'sdpa-dk');
    const dv = Tensor.empty(q.backend, [...batch, S, dvLen], 'float32', 'sdpa-dv');
    const bucket = headBucket(d, dvLen);
    const smem = attentionSmem(d, dvLen);
    const all = { q, k, v, o, lse, dO, D, dq, dk, dv };
    // dq writes D (rowsum(dO o)), which dkdv reads: stream order keeps them in sequence.
    cuda.launch(
      `lrw_attn_dq_${bucket}`,
      [Math.ceil(T / BR), heads, 1],
      BR,
      (a) => packAttention(a, cuda, all, batch, attrs),
      smem.dq,
    );
    cuda.launch(
      `lrw_attn_dkdv_${bucket}`,
      [Math.ceil(S / BR), heads, 1],
      BR,
      (a) => packAttention(a, cuda, all, batch, attrs),
      smem.dkdv,
    );
    dO.dispose();
    D.dispose();
    const need = ctx.needsGrad;
    const shaped = (t: Tensor, i: number): Tensor | null => {
      if (!need[i]) {
        t.dispose();
        return null;
      }
      const s = sumTo(t, ctx.inputShapes[i]!);
      if (s !== t) t.dispose();
      return s;
    };
    return [shaped(dq, 0), shaped(dk, 1), shaped(dv, 2)];
  },
};

export type { TensorView };

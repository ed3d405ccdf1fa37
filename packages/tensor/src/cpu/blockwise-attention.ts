/**
 * Blockwise (flash-style) scaled dot-product attention for the fast CPU backend: the scores are
 * computed one [BQ, BK] tile at a time with an online softmax (running row max and sum, the
 * partial output rescaled when the max grows; Milakov & Gimelshein 2018, Dao et al. 2022), so
 * the [T, S] probability matrix never exists, and with `causal` every tile above the diagonal
 * (all keys masked) is skipped, not computed. Forward keeps the output and the per-row
 * log-sum-exp; backward recomputes each tile's probabilities from them (FlashAttention-2's
 * backward: dV += P^T dO, dS = P (dO V^T - rowsum(dO O)), dQ += scale dS K, dK += scale dS^T Q).
 * All products are tile gemms on the backend's `gemm` (native BLAS or the wasm kernels).
 * Batch axes broadcast (grouped key/value heads read the same k, v tiles; their gradients
 * accumulate there). Inputs of different ranks or with an empty axis use `attentionRoutine`.
 */
import type { Routine } from '../backend.js';
import { dense } from '../fused-frames.js';
import { Tensor } from '../tensor.js';
import { attentionRoutine } from './attention-routine.js';
import type { Gemm } from './gemm.js';
import { f32 } from './tensor-f32.js';

/** Row-major float32 gemm with the wasm kernels' `matmul` signature (operands are subarrays). */
export type TileGemm = Gemm;

interface Attrs {
  causal: boolean;
  scale: number;
}

/** Tile edge (queries and keys). 64 keeps a score tile (16 KiB) and its operands in L1/L2. */
export const ATTENTION_BLOCK = 64;

function zeros(like: Tensor, name: string): Tensor {
  const t = Tensor.empty(like.backend, like.shape, 'float32', name);
  f32(t).fill(0);
  return t;
}

/**
 * The broadcast batch shape of q [..., T, d], k [..., S, d], v [..., S, dv] (same rank, every
 * batch axis equal or 1), or undefined (different ranks, an empty tensor, non-float32).
 */
function batchShape(q: Tensor, k: Tensor, v: Tensor): number[] | undefined {
  const r = q.rank;
  if (r < 2 || k.rank !== r || v.rank !== r) return undefined;
  if (!(q.size > 0 && k.size > 0 && v.size > 0 && q.dtype === 'float32')) return undefined;
  const out: number[] = [];
  for (let i = 0; i < r - 2; i++) {
    const n = Math.max(q.shape[i]!, k.shape[i]!, v.shape[i]!);
    for (const t of [q, k, v]) if (t.shape[i] !== n && t.shape[i] !== 1) return undefined;
    out.push(n);
  }
  return out;
}

/** Element offset of each broadcast head's [rows, cols] matrix in contiguous `t`. */
function headOffsets(t: Tensor, batch: number[]): Int32Array {
  const r = t.rank;
  const heads = batch.reduce((a, b) => a * b, 1);
  const strides = new Array<number>(r - 2);
  let s = t.shape[r - 2]! * t.shape[r - 1]!;
  for (let d = r - 3; d >= 0; d--) {
    strides[d] = t.shape[d] === 1 ? 0 : s;
    s *= t.shape[d]!;
  }
  const out = new Int32Array(heads);
  for (let h = 0; h < heads; h++) {
    let rest = h;
    let o = 0;
    for (let d = r - 3; d >= 0; d--) {
      o += (rest % batch[d]!) * strides[d]!;
      rest = Math.floor(rest / batch[d]!);
    }
    out[h] = o;
  }
  return out;
}

/**
 * The blockwise attention routine on `gemm`. `block` sets the tile edge (tests shrink it so
 * that many tiles, partial tiles and skipped tiles occur).
 */
export function blockwiseAttentionRoutine(
  gemm: TileGemm,
  options: { block?: number } = {},
): Routine {
  const B = options.block ?? ATTENTION_BLOCK;
  const tile = new Float32Array(B * B);
  const tile2 = new Float32Array(B * B);
  const m = new Float64Array(B);
  const l = new Float64Array(B);

  return {
    forward(inputs, attrs: Attrs, ctx) {
      const [qi, ki, vi] = inputs as [Tensor, Tensor, Tensor];
      const batch = batchShape(qi, ki, vi);
      if (!batch) return attentionRoutine.forward(inputs, attrs, ctx);
      const { causal, scale } = attrs;
      const q = dense(qi);
      const k = dense(ki);
      const v = dense(vi);
      const r = q.rank;
      const T = q.shape[r - 2]!;
      const d = q.shape[r - 1]!;
      const S = k.shape[r - 2]!;
      const dv = v.shape[r - 1]!;
      const heads = batch.reduce((a, b) => a * b, 1);
      const [qOff, kOff, vOff] = [q, k, v].map((t) => headOffsets(t, batch)) as Int32Array[];
      const out = Tensor.empty(q.backend, [...batch, T, dv], 'float32', 'sdpa');
      const lse = Tensor.empty(q.backend, [heads * T], 'float32', 'sdpa-lse');
      const qs = f32(q);
      const ks = f32(k);
      const vs = f32(v);
      const os = f32(out);
      const ls = f32(lse);
      for (let h = 0; h < heads; h++) {
        for (let i0 = 0; i0 < T; i0 += B) {
          const rows = Math.min(B, T - i0);
          const kEnd = causal ? Math.min(S, i0 + rows) : S;
          const qRow = h * T + i0; // row of out and lse
          const qAt = qOff![h]! + i0 * d;
          const Qi = qs.subarray(qAt, qAt + rows * d);
          const Oi = os.subarray(qRow * dv, (qRow + rows) * dv);
          Oi.fill(0);
          m.fill(Number.NEGATIVE_INFINITY, 0, rows);
          l.fill(0, 0, rows);
          for (let j0 = 0; j0 < kEnd; j0 += B) {
            const cols = Math.min(B, kEnd - j0);
            const kAt = kOff![h]! + j0 * d;
            const vAt = vOff![h]! + j0 * dv;
            const St = tile.subarray(0, rows * cols);
            gemm.matmul(Qi, ks.subarray(kAt, kAt + cols * d), St, rows, cols, d, {
              transB: true,
            });
            for (let i = 0; i < rows; i++) {
              const o = i * cols;
              // Keys j0 + c with c < visible are unmasked for query i0 + i (j <= i when causal).
              const visible = causal ? Math.min(cols, i0 + i + 1 - j0) : cols;
              if (visible <= 0) {
                St.fill(0, o, o + cols);
                continue;
              }
              let max = m[i]!;
              for (let c = 0; c < visible; c++) {
                const s = St[o + c]! * scale;
                if (s > max) max = s;
              }
              let sum = 0;
              for (let c = 0; c < visible; c++) {
                const e = Math.exp(St[o + c]! * scale - max);
                St[o + c] = e;
                sum += e;
              }
              St.fill(0, o + visible, o + cols);
              const alpha = Math.exp(m[i]! - max); // 0 on the first visible tile
              if (alpha !== 1) {
                const ro = i * dv;
                for (let c = 0; c < dv; c++) Oi[ro + c] = Oi[ro + c]! * alpha;
              }
              l[i] = l[i]! * alpha + sum;
              m[i] = max;
            }
            gemm.matmul(St, vs.subarray(vAt, vAt + cols * dv), Oi, rows, dv, cols, {
              accumulate: true,
            });
          }
          for (let i = 0; i < rows; i++) {
            const inv = 1 / l[i]!;
            const ro = i * dv;
            for (let c = 0; c < dv; c++) Oi[ro + c] = Oi[ro + c]! * inv;
            ls[qRow + i] = m[i]! + Math.log(l[i]!);
          }
        }
      }
      const need = ctx.needsGrad;
      const any = need[0] || need[1] || need[2];
      ctx.save(
        any ? q : undefined,
        any ? k : undefined,
        any ? v : undefined,
        any ? out : undefined,
        any ? lse : undefined,
      );
      for (const t of [q, k, v, lse]) t.dispose();
      return out;
    },

    backward(grad, ctx) {
      if (ctx.saved.length === 4) return attentionRoutine.backward!(grad, ctx);
      const [q, k, v, out, lse] = ctx.saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const { causal, scale } = ctx.attrs as Attrs;
      const need = ctx.needsGrad;
      const g = dense(grad);
      const r = q.rank;
      const T = q.shape[r - 2]!;
      const d = q.shape[r - 1]!;
      const S = k.shape[r - 2]!;
      const dvLen = v.shape[r - 1]!;
      const batch = out.shape.slice(0, r - 2);
      const heads = batch.reduce((a, b) => a * b, 1);
      const [qOff, kOff, vOff] = [q, k, v].map((t) => headOffsets(t, batch)) as Int32Array[];
      const dq = zeros(q, 'sdpa-dq');
      const dk = zeros(k, 'sdpa-dk');
      const dv = zeros(v, 'sdpa-dv');
      const [qs, ks, vs, os, ls, gs] = [q, k, v, out, lse, g].map(f32) as Float32Array[];
      const [dqs, dks, dvs] = [dq, dk, dv].map(f32) as Float32Array[];
      const wantQK = need[0] || need[1];
      const D = new Float64Array(B);
      for (let h = 0; h < heads; h++) {
        for (let i0 = 0; i0 < T; i0 += B) {
          const rows = Math.min(B, T - i0);
          const kEnd = causal ? Math.min(S, i0 + rows) : S;
          const qRow = h * T + i0; // row of out, g and lse
          const qAt = qOff![h]! + i0 * d;
          const Qi = qs!.subarray(qAt, qAt + rows * d);
          const dOi = gs!.subarray(qRow * dvLen, (qRow + rows) * dvLen);
          const dQi = dqs!.subarray(qAt, qAt + rows * d); // broadcast q: heads accumulate
          // D_i = rowsum(dO_i * O_i) = rowsum(dP_i * P_i), the softmax backward's correction.
          for (let i = 0; i < rows; i++) {
            let s = 0;
            const o = (qRow + i) * dvLen;
            for (let c = 0; c < dvLen; c++) s += gs![o + c]! * os![o + c]!;
            D[i] = s;
          }
          for (let j0 = 0; j0 < kEnd; j0 += B) {
            const cols = Math.min(B, kEnd - j0);
            const kAt = kOff![h]! + j0 * d;
            const vAt = vOff![h]! + j0 * dvLen;
            const Kj = ks!.subarray(kAt, kAt + cols * d);
            const Vj = vs!.subarray(vAt, vAt + cols * dvLen);
            const P = tile.subarray(0, rows * cols);
            gemm.matmul(Qi, Kj, P, rows, cols, d, { transB: true });
            for (let i = 0; i < rows; i++) {
              const o = i * cols;
              const visible = causal ? Math.max(0, Math.min(cols, i0 + i + 1 - j0)) : cols;
              const z = ls![qRow + i]!;
              for (let c = 0; c < visible; c++) P[o + c] = Math.exp(P[o + c]! * scale - z);
              P.fill(0, o + visible, o + cols);
            }
            if (need[2]) {
              gemm.matmul(P, dOi, dvs!.subarray(vAt, vAt + cols * dvLen), cols, dvLen, rows, {
                transA: true,
                accumulate: true,
              });
            }
            if (!wantQK) continue;
            const dS = tile2.subarray(0, rows * cols);
            gemm.matmul(dOi, Vj, dS, rows, cols, dvLen, { transB: true });
            for (let i = 0; i < rows; i++) {
              const o = i * cols;
              const di = D[i]!;
              for (let c = 0; c < cols; c++) dS[o + c] = scale * P[o + c]! * (dS[o + c]! - di);
            }
            if (need[0]) gemm.matmul(dS, Kj, dQi, rows, d, cols, { accumulate: true });
            if (need[1]) {
              gemm.matmul(dS, Qi, dks!.subarray(kAt, kAt + cols * d), cols, d, rows, {
                transA: true,
                accumulate: true,
              });
            }
          }
        }
      }
      g.dispose();
      const result: (Tensor | null)[] = [dq, dk, dv];
      for (let i = 0; i < 3; i++) {
        if (!need[i]) {
          result[i]!.dispose();
          result[i] = null;
        }
      }
      return result;
    },
  };
}

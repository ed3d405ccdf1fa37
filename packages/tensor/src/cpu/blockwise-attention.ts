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
import type { BlasProvider } from '../cpu-blas/provider.js';
import type { AttentionTileKernels } from '../cpu-wasm/elementwise.js';
import { dense } from '../fused-frames.js';
import type { AttentionAttrs, Routine } from '../routine.js';
import { Tensor } from '../tensor.js';
import { attentionRoutine } from './attention-routine.js';
import type { CpuBackend } from './cpu-backend.js';
import type { Gemm } from './gemm.js';
import { f32 } from './tensor-f32.js';

/** Row-major float32 gemm with the wasm kernels' `matmul` signature (operands are subarrays). */
export type TileGemm = Gemm;

/** Tile edge (queries and keys). 64 keeps a score tile (16 KiB) and its operands in L1/L2. */
export const ATTENTION_BLOCK = 64;

function visibleCols(i: number, cols: number, causal: boolean, diag: number): number {
  return causal ? Math.min(cols, Math.max(0, diag + i + 1)) : cols;
}

/**
 * The tile steps in plain TypeScript (Math.exp): the routine's default when no wasm kernels are
 * given, and the reference for the wasm ones (`AttentionTileKernels` documents each step).
 */
export const jsAttentionTiles: AttentionTileKernels = {
  attentionSoftmaxTile({ s, rows, cols, scale, causal, diag, m, l, alpha }) {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      const visible = visibleCols(i, cols, causal, diag);
      if (visible <= 0) {
        s.fill(0, o, o + cols);
        alpha[i] = 1;
        continue;
      }
      let max = m[i]!;
      for (let c = 0; c < visible; c++) {
        const v = s[o + c]! * scale;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let c = 0; c < visible; c++) {
        const e = Math.exp(s[o + c]! * scale - max);
        s[o + c] = e;
        sum += e;
      }
      s.fill(0, o + visible, o + cols);
      const a = Math.exp(m[i]! - max); // 0 on the first visible tile
      l[i] = l[i]! * a + sum;
      m[i] = max;
      alpha[i] = a;
    }
  },
  attentionProbTile({ s, rows, cols, scale, causal, diag, lse }) {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      const visible = visibleCols(i, cols, causal, diag);
      const z = lse[i]!;
      for (let c = 0; c < visible; c++) s[o + c] = Math.exp(s[o + c]! * scale - z);
      s.fill(0, o + Math.max(visible, 0), o + cols);
    }
  },
  attentionScoreGradTile(p, ds, rows, cols, scale, d) {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      const di = d[i]!;
      for (let c = 0; c < cols; c++) ds[o + c] = scale * p[o + c]! * (ds[o + c]! - di);
    }
  },
};

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

/**
 * A gemm that takes offsets and leading dimensions (the BLAS provider's `sgemm`): with one, the
 * routine reads heads in place from strided views (q, k, v sliced out of a fused qkv and
 * permuted to [B, H, T, D]: rows 3C apart) and writes the output and gradients in the
 * [B, T, H, D] order that the model's permute back to [B, T, C] turns into a free view.
 */
type LdGemm = NonNullable<BlasProvider['sgemm']>;

/** A [..., rows, cols] float32 operand: backing array, each head's element offset, row stride. */
interface Operand {
  t: Tensor;
  data: Float32Array;
  heads: Int32Array;
  ld: number;
}

/** Element offset of each broadcast head's [rows, cols] matrix of `t` (from its strides). */
function headOffsets(t: Tensor, batch: number[]): Int32Array {
  const r = t.rank;
  const heads = batch.reduce((a, b) => a * b, 1);
  const out = new Int32Array(heads);
  for (let h = 0; h < heads; h++) {
    let rest = h;
    let o = t.offset;
    for (let d = r - 3; d >= 0; d--) {
      const i = rest % batch[d]!;
      rest = Math.floor(rest / batch[d]!);
      if (t.shape[d] !== 1) o += i * t.strides[d]!;
    }
    out[h] = o;
  }
  return out;
}

/** Row stride of `t`'s last two axes when its rows are unit-stride (BLAS can read it), else 0. */
function rowStride(t: Tensor): number {
  const r = t.rank;
  const rows = t.shape[r - 2]!;
  const cols = t.shape[r - 1]!;
  if (t.strides.some((s) => s < 0)) return 0;
  if (cols !== 1 && t.strides[r - 1] !== 1) return 0;
  const ld = rows === 1 ? cols : t.strides[r - 2]!;
  return ld >= cols ? ld : 0;
}

/**
 * A fresh [..., rows, cols] tensor. With `heads` (an input whose batch axis just above the rows
 * is inner to them, e.g. [B, H, T, D] permuted from [B, T, H, D]) and strided gemms, stored in
 * that order too, so the model's inverse permute yields a contiguous tensor.
 */
function fresh(backend: Tensor['backend'], shape: number[], like: Tensor | undefined): Tensor {
  const r = shape.length;
  const swap =
    like !== undefined &&
    r >= 3 &&
    shape[r - 3]! > 1 &&
    shape[r - 2]! > 1 &&
    like.shape[r - 3] === shape[r - 3] &&
    like.strides[r - 3]! < like.strides[r - 2]!;
  if (!swap) return Tensor.empty(backend, shape, 'float32', 'sdpa');
  const phys = shape.slice();
  [phys[r - 3], phys[r - 2]] = [shape[r - 2]!, shape[r - 3]!];
  const p = Tensor.empty(backend, phys, 'float32', 'sdpa');
  const st = p.strides.slice();
  [st[r - 3], st[r - 2]] = [st[r - 2]!, st[r - 3]!];
  const view = p.viewAs(shape, st, 0, 'sdpa');
  p.dispose();
  return view;
}

/** Zero-filled `fresh` (every element of its storage is one of its elements). */
function freshZeros(backend: Tensor['backend'], shape: number[], like: Tensor | undefined): Tensor {
  const t = fresh(backend, shape, like);
  (backend as CpuBackend).array(t.view()).fill(0, 0, t.size);
  return t;
}

/**
 * The blockwise attention routine on `gemm`. `block` sets the tile edge (tests shrink it so
 * that many tiles, partial tiles and skipped tiles occur); `tiles` runs the per-tile softmax
 * steps (default `jsAttentionTiles`; the fast backend passes its wasm SIMD kernels). A gemm with
 * `sgemm` (leading dimensions) reads strided heads in place; others get contiguous copies.
 */
export function blockwiseAttentionRoutine(
  gemm: TileGemm & { sgemm?: LdGemm },
  options: { block?: number; tiles?: AttentionTileKernels } = {},
): Routine<AttentionAttrs> {
  const B = options.block ?? ATTENTION_BLOCK;
  const tiles = options.tiles ?? jsAttentionTiles;
  const ldGemm = gemm.sgemm;
  const tile = new Float32Array(B * B);
  const tile2 = new Float32Array(B * B);
  const m = new Float32Array(B);
  const l = new Float32Array(B);
  const alpha = new Float32Array(B);
  const D = new Float32Array(B);

  /** `t` as an operand: in place where the strided gemm can read it, else a contiguous copy. */
  const operand = (t: Tensor, batch: number[]): Operand => {
    const ld = ldGemm ? rowStride(t) : 0;
    const u = ld ? t.alias() : dense(t);
    return {
      t: u,
      data: (u.backend as CpuBackend).array(u.view()) as Float32Array,
      heads: headOffsets(u, batch),
      ld: ld || u.shape[u.rank - 1]!,
    };
  };

  /** C (+)= op(A) op(B) on [m, k] x [k, n] matrices at element offsets with row strides. */
  const mm = (
    a: Float32Array,
    aAt: number,
    lda: number,
    b: Float32Array,
    bAt: number,
    ldb: number,
    c: Float32Array,
    cAt: number,
    ldc: number,
    dims: [number, number, number],
    transA: boolean,
    transB: boolean,
    accumulate: boolean,
  ): void => {
    const [M, N, K] = dims;
    if (ldGemm) {
      ldGemm(a, b, c, M, N, K, {
        transA,
        transB,
        beta: accumulate ? 1 : 0,
        offsetA: aAt,
        lda,
        offsetB: bAt,
        ldb,
        offsetC: cAt,
        ldc,
      });
      return;
    }
    // Dense operands (ld equals the stored row length): subarrays for the plain gemm.
    const ra = transA ? K : M;
    const rb = transB ? N : K;
    gemm.matmul(
      a.subarray(aAt, aAt + ra * lda),
      b.subarray(bAt, bAt + rb * ldb),
      c.subarray(cAt, cAt + M * ldc),
      M,
      N,
      K,
      { transA, transB, accumulate },
    );
  };

  return {
    forward(inputs, attrs, ctx) {
      const [qi, ki, vi] = inputs as [Tensor, Tensor, Tensor];
      const batch = batchShape(qi, ki, vi);
      if (!batch) return attentionRoutine.forward(inputs, attrs, ctx);
      const { causal, scale } = attrs;
      const q = operand(qi, batch);
      const k = operand(ki, batch);
      const v = operand(vi, batch);
      const r = qi.rank;
      const T = qi.shape[r - 2]!;
      const d = qi.shape[r - 1]!;
      const S = ki.shape[r - 2]!;
      const dv = vi.shape[r - 1]!;
      const heads = batch.reduce((a, b) => a * b, 1);
      const out = fresh(qi.backend, [...batch, T, dv], ldGemm ? qi : undefined);
      const o: Operand = {
        t: out,
        data: (out.backend as CpuBackend).array(out.view()) as Float32Array,
        heads: headOffsets(out, batch),
        ld: rowStride(out),
      };
      const lse = Tensor.empty(qi.backend, [heads * T], 'float32', 'sdpa-lse');
      const ls = f32(lse);
      for (let h = 0; h < heads; h++) {
        for (let i0 = 0; i0 < T; i0 += B) {
          const rows = Math.min(B, T - i0);
          const kEnd = causal ? Math.min(S, i0 + rows) : S;
          const qAt = q.heads[h]! + i0 * q.ld;
          const oAt = o.heads[h]! + i0 * o.ld;
          m.fill(Number.NEGATIVE_INFINITY, 0, rows);
          l.fill(0, 0, rows);
          for (let j0 = 0; j0 < kEnd; j0 += B) {
            const cols = Math.min(B, kEnd - j0);
            const St = tile.subarray(0, rows * cols);
            mm(
              q.data,
              qAt,
              q.ld,
              k.data,
              k.heads[h]! + j0 * k.ld,
              k.ld,
              St,
              0,
              cols,
              [rows, cols, d],
              false,
              true,
              false,
            );
            tiles.attentionSoftmaxTile({
              s: St,
              rows,
              cols,
              scale,
              causal,
              diag: i0 - j0,
              m: m.subarray(0, rows),
              l: l.subarray(0, rows),
              alpha: alpha.subarray(0, rows),
            });
            // Rescale rows whose max grew (alpha 1: it held; 0: first visible tile, O unset).
            for (let i = 0; i < rows; i++) {
              const a = alpha[i]!;
              if (a === 1 || a === 0) continue;
              const ro = oAt + i * o.ld;
              for (let c = 0; c < dv; c++) o.data[ro + c] = o.data[ro + c]! * a;
            }
            // The first key tile of every row block is visible to all its rows (j0 = 0 <= i0).
            mm(
              St,
              0,
              cols,
              v.data,
              v.heads[h]! + j0 * v.ld,
              v.ld,
              o.data,
              oAt,
              o.ld,
              [rows, dv, cols],
              false,
              false,
              j0 > 0,
            );
          }
          for (let i = 0; i < rows; i++) {
            const ro = oAt + i * o.ld;
            const inv = 1 / l[i]!;
            for (let c = 0; c < dv; c++) o.data[ro + c] = o.data[ro + c]! * inv;
            ls[h * T + i0 + i] = m[i]! + Math.log(l[i]!);
          }
        }
      }
      const need = ctx.needsGrad;
      const any = need[0] || need[1] || need[2];
      ctx.save(
        any ? q.t : undefined,
        any ? k.t : undefined,
        any ? v.t : undefined,
        any ? out : undefined,
        any ? lse : undefined,
      );
      for (const t of [q.t, k.t, v.t, lse]) t.dispose();
      return out;
    },

    backward(grad, ctx) {
      if (ctx.saved.length === 4) return attentionRoutine.backward!(grad, ctx);
      const [qt, kt, vt, out, lse] = ctx.saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const { causal, scale } = ctx.attrs;
      const need = ctx.needsGrad;
      const r = qt.rank;
      const T = qt.shape[r - 2]!;
      const d = qt.shape[r - 1]!;
      const S = kt.shape[r - 2]!;
      const dvLen = vt.shape[r - 1]!;
      const batch = out.shape.slice(0, r - 2);
      const heads = batch.reduce((a, b) => a * b, 1);
      const q = operand(qt, batch);
      const k = operand(kt, batch);
      const v = operand(vt, batch);
      const o = operand(out, batch);
      const g = operand(grad, batch);
      const be = qt.backend;
      const lay = (t: Tensor) => (ldGemm ? t : undefined);
      const grads = [
        freshZeros(be, qt.shape.slice(), lay(qt)),
        freshZeros(be, kt.shape.slice(), lay(kt)),
        freshZeros(be, vt.shape.slice(), lay(vt)),
      ];
      const [dq, dk, dv] = grads.map((t) => ({
        t,
        data: (be as CpuBackend).array(t.view()) as Float32Array,
        heads: headOffsets(t, batch),
        ld: rowStride(t) || t.shape[r - 1]!,
      })) as [Operand, Operand, Operand];
      const ls = f32(lse);
      const wantQK = need[0] || need[1];
      for (let h = 0; h < heads; h++) {
        for (let i0 = 0; i0 < T; i0 += B) {
          const rows = Math.min(B, T - i0);
          const kEnd = causal ? Math.min(S, i0 + rows) : S;
          const qRow = h * T + i0; // row of lse
          const qAt = q.heads[h]! + i0 * q.ld;
          const gAt = g.heads[h]! + i0 * g.ld;
          const dqAt = dq.heads[h]! + i0 * dq.ld; // broadcast q: heads accumulate
          // D_i = rowsum(dO_i * O_i) = rowsum(dP_i * P_i), the softmax backward's correction.
          for (let i = 0; i < rows; i++) {
            let s = 0;
            const go = gAt + i * g.ld;
            const oo = o.heads[h]! + (i0 + i) * o.ld;
            for (let c = 0; c < dvLen; c++) s += g.data[go + c]! * o.data[oo + c]!;
            D[i] = s;
          }
          for (let j0 = 0; j0 < kEnd; j0 += B) {
            const cols = Math.min(B, kEnd - j0);
            const kAt = k.heads[h]! + j0 * k.ld;
            const vAt = v.heads[h]! + j0 * v.ld;
            const P = tile.subarray(0, rows * cols);
            mm(
              q.data,
              qAt,
              q.ld,
              k.data,
              kAt,
              k.ld,
              P,
              0,
              cols,
              [rows, cols, d],
              false,
              true,
              false,
            );
            tiles.attentionProbTile({
              s: P,
              rows,
              cols,
              scale,
              causal,
              diag: i0 - j0,
              lse: ls.subarray(qRow, qRow + rows),
            });
            if (need[2]) {
              mm(
                P,
                0,
                cols,
                g.data,
                gAt,
                g.ld,
                dv.data,
                dv.heads[h]! + j0 * dv.ld,
                dv.ld,
                [cols, dvLen, rows],
                true,
                false,
                true,
              );
            }
            if (!wantQK) continue;
            const dS = tile2.subarray(0, rows * cols);
            mm(
              g.data,
              gAt,
              g.ld,
              v.data,
              vAt,
              v.ld,
              dS,
              0,
              cols,
              [rows, cols, dvLen],
              false,
              true,
              false,
            );
            tiles.attentionScoreGradTile(P, dS, rows, cols, scale, D.subarray(0, rows));
            if (need[0]) {
              mm(
                dS,
                0,
                cols,
                k.data,
                kAt,
                k.ld,
                dq.data,
                dqAt,
                dq.ld,
                [rows, d, cols],
                false,
                false,
                true,
              );
            }
            if (need[1]) {
              mm(
                dS,
                0,
                cols,
                q.data,
                qAt,
                q.ld,
                dk.data,
                dk.heads[h]! + j0 * dk.ld,
                dk.ld,
                [cols, d, rows],
                true,
                false,
                true,
              );
            }
          }
        }
      }
      for (const t of [q.t, k.t, v.t, o.t, g.t]) t.dispose();
      const result: (Tensor | null)[] = grads;
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

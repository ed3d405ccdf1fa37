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
import type { OpContext } from '../autograd.js';
import type { AttentionTileKernels } from '../cpu-wasm/elementwise.js';
import { dense } from '../fused-frames.js';
import type { AttentionAttrs, Routine } from '../routine.js';
import { Tensor } from '../tensor.js';
import {
  batchShape,
  fresh,
  freshZeros,
  headOffsets,
  type LdGemm,
  type Operand,
  rowStride,
} from './attention-operands.js';
import { attentionRoutine } from './attention-routine.js';
import { jsAttentionTiles } from './attention-tiles.js';
import type { CpuBackend } from './cpu-backend.js';
import type { Gemm } from './gemm.js';
import { f32 } from './tensor-f32.js';

export { jsAttentionTiles } from './attention-tiles.js';

/** Row-major float32 gemm with the wasm kernels' `matmul` signature (operands are subarrays). */
export type TileGemm = Gemm;

/** Tile edge (queries and keys). 64 keeps a score tile (16 KiB) and its operands in L1/L2. */
export const ATTENTION_BLOCK = 64;

/** The operands and sizes of one forward or backward call: q [.., T, d], k [.., S, d], v [.., S, dv]. */
interface Pass {
  q: Operand;
  k: Operand;
  v: Operand;
  T: number;
  S: number;
  d: number;
  dv: number;
  causal: boolean;
  scale: number;
}

/**
 * One routine instance: the tile gemm, the tile steps, and the scratch every call reuses (two
 * score tiles; per-row running max m, sum l, rescale factor alpha and softmax correction D).
 */
class BlockwiseAttention {
  private readonly ldGemm: LdGemm | undefined;
  private readonly tile: Float32Array;
  private readonly tile2: Float32Array;
  private readonly m: Float32Array;
  private readonly l: Float32Array;
  private readonly alpha: Float32Array;
  private readonly D: Float32Array;

  constructor(
    private readonly gemm: TileGemm & { sgemm?: LdGemm },
    private readonly B: number,
    private readonly tiles: AttentionTileKernels,
  ) {
    this.ldGemm = gemm.sgemm;
    this.tile = new Float32Array(B * B);
    this.tile2 = new Float32Array(B * B);
    this.m = new Float32Array(B);
    this.l = new Float32Array(B);
    this.alpha = new Float32Array(B);
    this.D = new Float32Array(B);
  }

  // ---- operands and tile products ---------------------------------------------------------------

  /** `t` as an operand: in place where the strided gemm can read it, else a contiguous copy. */
  private operand(t: Tensor, batch: number[]): Operand {
    const ld = this.ldGemm ? rowStride(t) : 0;
    const u = ld ? t.alias() : dense(t);
    return {
      t: u,
      data: (u.backend as CpuBackend).array(u.view()) as Float32Array,
      heads: headOffsets(u, batch),
      ld: ld || u.shape[u.rank - 1]!,
    };
  }

  /** C (+)= op(A) op(B) on [m, k] x [k, n] matrices at element offsets with row strides. */
  private mm(
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
  ): void {
    const [M, N, K] = dims;
    if (this.ldGemm) {
      this.ldGemm(a, b, c, M, N, K, {
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
    this.gemm.matmul(
      a.subarray(aAt, aAt + ra * lda),
      b.subarray(bAt, bAt + rb * ldb),
      c.subarray(cAt, cAt + M * ldc),
      M,
      N,
      K,
      { transA, transB, accumulate },
    );
  }

  // ---- forward: online softmax over key tiles ---------------------------------------------------

  forward(
    inputs: readonly Tensor[],
    attrs: AttentionAttrs,
    ctx: OpContext<AttentionAttrs>,
  ): Tensor {
    const [qi, ki, vi] = inputs as [Tensor, Tensor, Tensor];
    const batch = batchShape(qi, ki, vi);
    if (!batch) return attentionRoutine.forward(inputs, attrs, ctx);
    const r = qi.rank;
    const pass: Pass = {
      q: this.operand(qi, batch),
      k: this.operand(ki, batch),
      v: this.operand(vi, batch),
      T: qi.shape[r - 2]!,
      d: qi.shape[r - 1]!,
      S: ki.shape[r - 2]!,
      dv: vi.shape[r - 1]!,
      causal: attrs.causal,
      scale: attrs.scale,
    };
    const { T, dv, q, k, v } = pass;
    const heads = batch.reduce((a, b) => a * b, 1);
    const out = fresh(qi.backend, [...batch, T, dv], this.ldGemm ? qi : undefined);
    const o: Operand = {
      t: out,
      data: (out.backend as CpuBackend).array(out.view()) as Float32Array,
      heads: headOffsets(out, batch),
      ld: rowStride(out),
    };
    const lse = Tensor.empty(qi.backend, [heads * T], 'float32', 'sdpa-lse');
    const ls = f32(lse);
    for (let h = 0; h < heads; h++) {
      for (let i0 = 0; i0 < T; i0 += this.B) this.forwardRows(pass, o, ls, h, i0);
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
  }

  /** Query rows i0.. of head h: O and the rows' log-sum-exp, one key tile at a time. */
  private forwardRows(p: Pass, o: Operand, ls: Float32Array, h: number, i0: number): void {
    const { q, k, v, T, S, d, dv, causal, scale } = p;
    const { tile, m, l, alpha } = this;
    const rows = Math.min(this.B, T - i0);
    const kEnd = causal ? Math.min(S, i0 + rows) : S;
    const qAt = q.heads[h]! + i0 * q.ld;
    const oAt = o.heads[h]! + i0 * o.ld;
    m.fill(Number.NEGATIVE_INFINITY, 0, rows);
    l.fill(0, 0, rows);
    for (let j0 = 0; j0 < kEnd; j0 += this.B) {
      const cols = Math.min(this.B, kEnd - j0);
      const St = tile.subarray(0, rows * cols);
      this.mm(
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
      this.tiles.attentionSoftmaxTile({
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
      this.mm(
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

  // ---- backward: probabilities recomputed per tile from the log-sum-exp --------------------------

  backward(grad: Tensor, ctx: OpContext<AttentionAttrs>): (Tensor | null)[] {
    if (ctx.saved.length === 4) return attentionRoutine.backward!(grad, ctx);
    const [qt, kt, vt, out, lse] = ctx.saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const need = ctx.needsGrad;
    const r = qt.rank;
    const batch = out.shape.slice(0, r - 2);
    const heads = batch.reduce((a, b) => a * b, 1);
    const pass: Pass = {
      q: this.operand(qt, batch),
      k: this.operand(kt, batch),
      v: this.operand(vt, batch),
      T: qt.shape[r - 2]!,
      d: qt.shape[r - 1]!,
      S: kt.shape[r - 2]!,
      dv: vt.shape[r - 1]!,
      causal: ctx.attrs.causal,
      scale: ctx.attrs.scale,
    };
    const o = this.operand(out, batch);
    const g = this.operand(grad, batch);
    const be = qt.backend;
    const lay = (t: Tensor) => (this.ldGemm ? t : undefined);
    const grads = [
      freshZeros(be, qt.shape.slice(), lay(qt)),
      freshZeros(be, kt.shape.slice(), lay(kt)),
      freshZeros(be, vt.shape.slice(), lay(vt)),
    ];
    const dqkv = grads.map((t) => ({
      t,
      data: (be as CpuBackend).array(t.view()) as Float32Array,
      heads: headOffsets(t, batch),
      ld: rowStride(t) || t.shape[r - 1]!,
    })) as [Operand, Operand, Operand];
    const ls = f32(lse);
    for (let h = 0; h < heads; h++) {
      for (let i0 = 0; i0 < pass.T; i0 += this.B) {
        this.backwardRows(pass, o, g, dqkv, ls, need, h, i0);
      }
    }
    for (const t of [pass.q.t, pass.k.t, pass.v.t, o.t, g.t]) t.dispose();
    const result: (Tensor | null)[] = grads;
    for (let i = 0; i < 3; i++) {
      if (!need[i]) {
        result[i]!.dispose();
        result[i] = null;
      }
    }
    return result;
  }

  /** Query rows i0.. of head h: their dQ, and their share of dK and dV, one key tile at a time. */
  private backwardRows(
    p: Pass,
    o: Operand,
    g: Operand,
    [dq, dk, dv]: [Operand, Operand, Operand],
    ls: Float32Array,
    need: readonly boolean[],
    h: number,
    i0: number,
  ): void {
    const { q, k, v, T, S, d, causal, scale } = p;
    const dvLen = p.dv;
    const { tile, tile2, D } = this;
    const wantQK = need[0] || need[1];
    const rows = Math.min(this.B, T - i0);
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
    for (let j0 = 0; j0 < kEnd; j0 += this.B) {
      const cols = Math.min(this.B, kEnd - j0);
      const kAt = k.heads[h]! + j0 * k.ld;
      const vAt = v.heads[h]! + j0 * v.ld;
      const P = tile.subarray(0, rows * cols);
      this.mm(
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
      this.tiles.attentionProbTile({
        s: P,
        rows,
        cols,
        scale,
        causal,
        diag: i0 - j0,
        lse: ls.subarray(qRow, qRow + rows),
      });
      if (need[2]) {
        this.mm(
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
      this.mm(
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
      this.tiles.attentionScoreGradTile(P, dS, rows, cols, scale, D.subarray(0, rows));
      if (need[0]) {
        this.mm(
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
        this.mm(
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
  const impl = new BlockwiseAttention(
    gemm,
    options.block ?? ATTENTION_BLOCK,
    options.tiles ?? jsAttentionTiles,
  );
  return {
    forward: (inputs, attrs, ctx) => impl.forward(inputs, attrs, ctx),
    backward: (grad, ctx) => impl.backward(grad, ctx),
  };
}

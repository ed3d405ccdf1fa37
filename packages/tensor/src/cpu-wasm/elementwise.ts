// Elementwise training-step kernels (assembly/elementwise.ts) over Float32Arrays.
import type { WasmHeap } from './heap.js';
import {
  type KernelExports,
  NORM_HAS_B,
  NORM_HAS_W,
  NORM_WANT_DB,
  NORM_WANT_DW,
  NORM_WANT_DX,
} from './kernels.js';

/** Hyper-parameters of one AdamW step, as in torch.optim.AdamW. */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count t (bias corrections 1 - beta^t). */
  step: number;
}

/**
 * The score-tile steps of blockwise attention (src/cpu/blockwise-attention.ts). A tile S
 * [rows, cols] holds raw scores q.k of query rows i0 + i against key columns j0 + c; row i sees
 * columns c < cols, or with `causal`, c < clamp(diag + i + 1, 0, cols) (diag = i0 - j0); masked
 * columns come out 0. Per-row arrays (m, l, alpha, lse, d) have `rows` elements.
 */
export interface AttentionTileKernels {
  /**
   * One online-softmax step in place: S = exp(scale S - m') on visible columns, where
   * m' = max(m, scale max S); l = alpha l + rowsum(S); alpha = exp(m - m') (0 while m = -inf,
   * exactly 1 when the max holds); m = m'. Rows with nothing visible keep m, l and get alpha = 1.
   */
  attentionSoftmaxTile(args: {
    s: Float32Array;
    rows: number;
    cols: number;
    scale: number;
    causal: boolean;
    diag: number;
    m: Float32Array;
    l: Float32Array;
    alpha: Float32Array;
  }): void;
  /** In place: S = exp(scale S - lse[i]) on visible columns (the probabilities), else 0. */
  attentionProbTile(args: {
    s: Float32Array;
    rows: number;
    cols: number;
    scale: number;
    causal: boolean;
    diag: number;
    lse: Float32Array;
  }): void;
  /** In place on dS: dS = scale P (dS - d[i]) (softmax backward, d = rowsum(dO O)). */
  attentionScoreGradTile(
    p: Float32Array,
    ds: Float32Array,
    rows: number,
    cols: number,
    scale: number,
    d: Float32Array,
  ): void;
}

/** Float32 binary ops of `binaryRows`; the `r` forms swap the operands (b - a, b / a). */
export const BINARY_ROW_OPS = { add: 0, sub: 1, mul: 2, div: 3, rsub: 4, rdiv: 5 } as const;
export type BinaryRowOp = keyof typeof BINARY_ROW_OPS;

export interface ElementwiseKernels extends AttentionTileKernels {
  /**
   * out[i] = a[i] (op) b[i mod b.length]: `b` the same length as `a` (elementwise), one element
   * (a scalar) or a divisor of it (a row repeated, e.g. a bias). `out` may be `a`. Returns `out`.
   */
  binary(op: BinaryRowOp, out: Float32Array, a: Float32Array, b: Float32Array): Float32Array;
  /**
   * One AdamW step in place on `param`, `expAvg` (m) and `expAvgSq` (v), given `grad`
   * (decoupled weight decay, PyTorch's formulation). All four arrays have the same length.
   */
  adamw(
    param: Float32Array,
    grad: Float32Array,
    expAvg: Float32Array,
    expAvgSq: Float32Array,
    hp: AdamWStep,
  ): void;
  /** y += alpha * x (same length). */
  axpy(y: Float32Array, x: Float32Array, alpha: number): Float32Array;
  /** Sum of squares of `x`, accumulated in float64 (gradient-norm clipping). */
  sumOfSquares(x: Float32Array): number;
  /**
   * out[r] = log(sum_v exp(logits[r, v])) for `rows` rows of `V` floats (row max subtracted;
   * vector exp within ~2 ulp, partial sums in float64). Returns `out`.
   */
  logSumExpRows(logits: Float32Array, rows: number, V: number, out: Float32Array): Float32Array;
  /**
   * In place: logits[r, v] = g[r] exp(logits[r, v] - z[r]), i.e. the softmax (z = log-sum-exp of
   * the row) times the row's upstream gradient; rows with g[r] = 0 become 0.
   */
  softmaxGradRows(
    logits: Float32Array,
    rows: number,
    V: number,
    z: Float32Array,
    g: Float32Array,
  ): Float32Array;
  /**
   * GELU (tanh approximation) over `x` into `y`, in float32 with the vector exp, as
   * y = x / (1 + exp(-2u)), u = c (x + a x^3) (no cancellation for large negative x).
   */
  gelu(x: Float32Array, y: Float32Array): Float32Array;
  /** dx = g * gelu'(x) (recomputes exp(-2u): nothing saved from forward but x). */
  geluBackward(x: Float32Array, g: Float32Array, dx: Float32Array): Float32Array;
  /**
   * LayerNorm of `rows` rows of C floats (biased variance): y = (x - mean) rstd (* w) (+ b),
   * stats [rows, 2] = (mean, rstd), rstd = 1 / sqrt(var + eps); float32 sums in four lanes.
   */
  layerNorm(args: {
    x: Float32Array;
    w: Float32Array | undefined;
    b: Float32Array | undefined;
    y: Float32Array;
    stats: Float32Array;
    rows: number;
    C: number;
    eps: number;
  }): void;
  /**
   * LayerNorm backward from x, the forward's stats and the upstream gradient g: fills whichever
   * of dx, dw (= sum over rows of g xhat) and db (= sum over rows of g) are given.
   */
  layerNormBackward(args: {
    x: Float32Array;
    w: Float32Array | undefined;
    g: Float32Array;
    stats: Float32Array;
    rows: number;
    C: number;
    dx: Float32Array | undefined;
    dw: Float32Array | undefined;
    db: Float32Array | undefined;
  }): void;
}

function rowsCheck(op: string, logits: Float32Array, rows: number, V: number, per: Float32Array[]) {
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(V) && V >= 1)) {
    throw new RangeError(`${op}: rows = ${rows} and V = ${V} must be integers, rows >= 0, V >= 1`);
  }
  if (logits.length < rows * V) {
    throw new RangeError(
      `${op}: logits has ${logits.length} elements but rows * V = ${rows} * ${V} = ${rows * V}`,
    );
  }
  for (const a of per) {
    if (a.length < rows) {
      throw new RangeError(`${op}: a per-row array has ${a.length} elements but rows = ${rows}`);
    }
  }
}

/** Sizes of a layerNorm call: `rowArrays` hold rows * C floats, `vectors` C, `stats` 2 rows. */
function normCheck(
  op: string,
  rows: number,
  C: number,
  rowArrays: Record<string, Float32Array | undefined>,
  vectors: Record<string, Float32Array | undefined>,
  stats: Float32Array,
): void {
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(C) && C >= 1)) {
    throw new RangeError(`${op}: rows = ${rows} and C = ${C} must be integers, rows >= 0, C >= 1`);
  }
  const need = (name: string, a: Float32Array | undefined, n: number, what: string) => {
    if (a && a.length < n) {
      throw new RangeError(`${op}: ${name} has ${a.length} elements but needs ${what} = ${n}`);
    }
  };
  for (const [name, a] of Object.entries(rowArrays)) need(name, a, rows * C, 'rows * C');
  for (const [name, a] of Object.entries(vectors)) need(name, a, C, 'C');
  need('stats', stats, 2 * rows, '2 * rows');
}

export interface ElementwiseContext {
  kernel: KernelExports;
  heap: WasmHeap;
  /** Byte offset of a staging block of at least `bytes` bytes for operand `slot`. */
  stage(slot: number, bytes: number): number;
  assertOpen(op: string): void;
}

function sameLength(op: string, names: string[], arrays: Float32Array[]): number {
  const n = arrays[0]!.length;
  arrays.forEach((a, i) => {
    if (a.length !== n) {
      throw new RangeError(
        `${op}: ${names[i]} has ${a.length} elements but ${names[0]} has ${n}; they must match`,
      );
    }
  });
  return n;
}

export function makeElementwise(ctx: ElementwiseContext): ElementwiseKernels {
  const { kernel, heap } = ctx;
  // Pointer of `array` in the heap, copying it into staging slot `slot` when outside.
  const place = (array: Float32Array, slot: number, copyIn: boolean): number => {
    if (heap.contains(array)) return array.byteOffset;
    const ptr = ctx.stage(slot, array.length * 4);
    if (copyIn) heap.f32(ptr, array.length).set(array);
    return ptr;
  };
  const back = (array: Float32Array, ptr: number): void => {
    if (!heap.contains(array)) array.set(heap.f32(ptr, array.length));
  };
  // Staging may grow (and, for a private memory, replace) the buffer: place all, then copy in.
  // `outputs` counts trailing arrays that are only written (not copied in).
  const placeAll = (arrays: Float32Array[], outputs = 0): number[] => {
    const ptrs = arrays.map((a, i) => place(a, i, false));
    arrays.forEach((a, i) => {
      if (i < arrays.length - outputs && !heap.contains(a)) heap.f32(ptrs[i]!, a.length).set(a);
    });
    return ptrs;
  };

  const tileCheck = (
    op: string,
    s: Float32Array,
    rows: number,
    cols: number,
    per: Float32Array[],
  ) => {
    if (s.length !== rows * cols || per.some((a) => a.length !== rows)) {
      throw new RangeError(
        `${op}: tile has ${s.length} elements for ${rows} x ${cols} and per-row arrays of ` +
          `${per.map((a) => a.length).join(', ')} (need ${rows * cols} and ${rows} each)`,
      );
    }
  };

  return {
    binary(op, out, a, b) {
      ctx.assertOpen('binary');
      const n = a.length;
      const period = b.length;
      if (out.length !== n || period === 0 || n % period !== 0) {
        throw new RangeError(
          `binary ${op}: a has ${n} elements, out ${out.length}, b ${period}; ` +
            'out must match a and b must be 1 element, a row of it or as long',
        );
      }
      if (n === 0) return out;
      const [pa, pb, po] = placeAll([a, b, out], 1) as [number, number, number];
      kernel.binaryRows(BINARY_ROW_OPS[op], po, pa, pb, n, period);
      back(out, po);
      return out;
    },

    attentionSoftmaxTile({ s, rows, cols, scale, causal, diag, m, l, alpha }) {
      ctx.assertOpen('attentionSoftmaxTile');
      tileCheck('attentionSoftmaxTile', s, rows, cols, [m, l, alpha]);
      const [ps, pm, pl, pa] = placeAll([s, m, l, alpha], 1) as [number, number, number, number];
      kernel.attnSoftmaxTile(ps, rows, cols, scale, causal ? 1 : 0, diag, pm, pl, pa);
      back(s, ps);
      back(m, pm);
      back(l, pl);
      back(alpha, pa);
    },

    attentionProbTile({ s, rows, cols, scale, causal, diag, lse }) {
      ctx.assertOpen('attentionProbTile');
      tileCheck('attentionProbTile', s, rows, cols, [lse]);
      const [ps, pz] = placeAll([s, lse]) as [number, number];
      kernel.attnProbTile(ps, rows, cols, scale, causal ? 1 : 0, diag, pz);
      back(s, ps);
    },

    attentionScoreGradTile(p, ds, rows, cols, scale, d) {
      ctx.assertOpen('attentionScoreGradTile');
      tileCheck('attentionScoreGradTile', ds, rows, cols, [d]);
      tileCheck('attentionScoreGradTile', p, rows, cols, [d]);
      const [pp, pds, pd] = placeAll([p, ds, d]) as [number, number, number];
      kernel.attnScoreGradTile(pp, pds, rows, cols, scale, pd);
      back(ds, pds);
    },

    adamw(param, grad, expAvg, expAvgSq, hp) {
      ctx.assertOpen('adamw');
      const n = sameLength(
        'adamw',
        ['param', 'grad', 'expAvg', 'expAvgSq'],
        [param, grad, expAvg, expAvgSq],
      );
      if (!(Number.isInteger(hp.step) && hp.step >= 1)) {
        throw new RangeError(`adamw: step = ${hp.step} must be an integer >= 1 (1-based)`);
      }
      for (const key of ['beta1', 'beta2'] as const) {
        if (!(hp[key] >= 0 && hp[key] < 1)) {
          throw new RangeError(`adamw: ${key} = ${hp[key]} must lie in [0, 1)`);
        }
      }
      const [pp, pg, pm, pv] = placeAll([param, grad, expAvg, expAvgSq]) as [
        number,
        number,
        number,
        number,
      ];
      const bc1 = 1 - hp.beta1 ** hp.step;
      const bc2 = 1 - hp.beta2 ** hp.step;
      kernel.adamw(
        pp,
        pg,
        pm,
        pv,
        n,
        1 - hp.lr * hp.weightDecay,
        hp.beta1,
        hp.beta2,
        1 - hp.beta1,
        1 - hp.beta2,
        hp.lr / bc1,
        1 / Math.sqrt(bc2),
        hp.eps,
      );
      back(param, pp);
      back(expAvg, pm);
      back(expAvgSq, pv);
    },

    axpy(y, x, alpha) {
      ctx.assertOpen('axpy');
      const n = sameLength('axpy', ['y', 'x'], [y, x]);
      const [py, px] = placeAll([y, x]) as [number, number];
      kernel.axpy(py, px, n, alpha);
      back(y, py);
      return y;
    },

    logSumExpRows(logits, rows, V, out) {
      ctx.assertOpen('logSumExpRows');
      rowsCheck('logSumExpRows', logits, rows, V, [out]);
      const l = logits.subarray(0, rows * V);
      const o = out.subarray(0, rows);
      const [pl, po] = placeAll([l, o], 1) as [number, number];
      kernel.logSumExpRows(pl, rows, V, po);
      back(o, po);
      return out;
    },

    softmaxGradRows(logits, rows, V, z, g) {
      ctx.assertOpen('softmaxGradRows');
      rowsCheck('softmaxGradRows', logits, rows, V, [z, g]);
      const l = logits.subarray(0, rows * V);
      const [pl, pz, pg] = placeAll([l, z.subarray(0, rows), g.subarray(0, rows)]) as [
        number,
        number,
        number,
      ];
      kernel.softmaxGradRows(pl, rows, V, pz, pg);
      back(l, pl);
      return logits;
    },

    gelu(x, y) {
      ctx.assertOpen('gelu');
      const n = sameLength('gelu', ['x', 'y'], [x, y]);
      const [px, py] = placeAll([x, y], 1) as [number, number];
      kernel.geluForward(px, py, n);
      back(y, py);
      return y;
    },

    geluBackward(x, g, dx) {
      ctx.assertOpen('geluBackward');
      const n = sameLength('geluBackward', ['x', 'g', 'dx'], [x, g, dx]);
      const [px, pg, pd] = placeAll([x, g, dx], 1) as [number, number, number];
      kernel.geluBackward(px, pg, pd, n);
      back(dx, pd);
      return dx;
    },

    layerNorm({ x, w, b, y, stats, rows, C, eps }) {
      ctx.assertOpen('layerNorm');
      normCheck('layerNorm', rows, C, { x, y }, { w, b }, stats);
      const ins = [x.subarray(0, rows * C), ...(w ? [w.subarray(0, C)] : [])];
      if (b) ins.push(b.subarray(0, C));
      const outs = [y.subarray(0, rows * C), stats.subarray(0, 2 * rows)];
      const ptrs = placeAll([...ins, ...outs], 2);
      const [px, pw] = ptrs as [number, number];
      const pb = b ? ptrs[ins.length - 1]! : 0;
      const [py, ps] = ptrs.slice(ins.length) as [number, number];
      kernel.layerNormForward(
        px,
        w ? pw : 0,
        pb,
        py,
        ps,
        rows,
        C,
        eps,
        (w ? NORM_HAS_W : 0) | (b ? NORM_HAS_B : 0),
      );
      back(outs[0]!, py);
      back(outs[1]!, ps);
    },

    layerNormBackward({ x, w, g, stats, rows, C, dx, dw, db }) {
      ctx.assertOpen('layerNormBackward');
      normCheck('layerNormBackward', rows, C, { x, g, dx }, { w, dw, db }, stats);
      // dw and db accumulate in place: zeroed here, then copied in like inputs.
      dw?.fill(0, 0, C);
      db?.fill(0, 0, C);
      const arrays = [
        x.subarray(0, rows * C),
        g.subarray(0, rows * C),
        stats.subarray(0, 2 * rows),
        w?.subarray(0, C),
        dw?.subarray(0, C),
        db?.subarray(0, C),
        dx?.subarray(0, rows * C),
      ];
      const given = arrays.filter((a): a is Float32Array => a !== undefined);
      const placed = placeAll(given, dx ? 1 : 0);
      const ptr = (a: Float32Array | undefined) => (a ? placed[given.indexOf(a)]! : 0);
      const [, , , aw, adw, adb, adx] = arrays;
      kernel.layerNormBackward(
        ptr(arrays[0]),
        ptr(aw),
        ptr(arrays[1]),
        ptr(arrays[2]),
        ptr(adx),
        ptr(adw),
        ptr(adb),
        rows,
        C,
        (w ? NORM_HAS_W : 0) |
          (dx ? NORM_WANT_DX : 0) |
          (dw ? NORM_WANT_DW : 0) |
          (db ? NORM_WANT_DB : 0),
      );
      for (const a of [adx, adw, adb]) if (a) back(a, ptr(a));
    },

    sumOfSquares(x) {
      ctx.assertOpen('sumOfSquares');
      const [px] = placeAll([x]) as [number];
      return kernel.sumOfSquares(px, x.length);
    },
  };
}

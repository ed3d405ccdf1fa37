// Elementwise training-step kernels (assembly/elementwise.ts) over Float32Arrays: the interface,
// assembled from its sections (operand staging, step kernels, attention tiles, row kernels).

import type { AdamWRoutineAttrs } from '../ops/adamw.js';
import { rowKernels } from './elementwise-row-kernels.js';
import { operandStaging } from './elementwise-staging.js';
import { type BinaryRowOp, stepKernels } from './elementwise-step-kernels.js';
import { attentionTileKernels } from './elementwise-tile-kernels.js';
import type { WasmHeap } from './heap.js';
import type { KernelExports } from './kernels.js';

export {
  adamwConstants,
  BINARY_ROW_OPS,
  type BinaryRowOp,
} from './elementwise-step-kernels.js';

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
 * The float32 constants of one AdamW step, derived in float64 from `AdamWStep`: the attributes
 * of the `adamwStep` routine (`adamwUpdate` is that routine's kernel).
 */
export type AdamWConstants = AdamWRoutineAttrs;

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
  /** `adamw` with its constants already derived (the `adamwStep` routine's attributes). */
  adamwUpdate(
    param: Float32Array,
    grad: Float32Array,
    expAvg: Float32Array,
    expAvgSq: Float32Array,
    c: AdamWConstants,
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

export interface ElementwiseContext {
  kernel: KernelExports;
  heap: WasmHeap;
  /** Byte offset of a staging block of at least `bytes` bytes for operand `slot`. */
  stage(slot: number, bytes: number): number;
  assertOpen(op: string): void;
}

/** The elementwise kernels over `ctx`'s heap and exports. */
export function makeElementwise(ctx: ElementwiseContext): ElementwiseKernels {
  const st = operandStaging(ctx);
  return {
    ...stepKernels(st),
    ...attentionTileKernels(st),
    ...rowKernels(st),
  };
}

/**
 * Fused CPU routines for the composite ops that dominate a transformer step after the matmuls
 * (profile of bench/transformer-block.mjs: the elementwise kernels of the GELU, LayerNorm and
 * attention compositions and their gradient rules; attention lives in attention-routine.ts). Each runs forward and backward as one pass per row in
 * float64 arithmetic instead of ~10 elementwise kernels with a temporary tensor each. They are
 * registered on the fast CPU backend; the reference backend keeps the compositions, which stay
 * the definition (both run the same conformance suite and finite-difference checks).
 */
import { dense, normRoutineFrame } from '../fused-frames.js';
import type { NoAttrs, NormAttrs, Routine, RoutineTable } from '../routine.js';
import { Tensor } from '../tensor.js';
import { attentionRoutine } from './attention-routine.js';
import { f32 } from './tensor-f32.js';

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** tanh through one exp (V8's Math.tanh costs about twice Math.exp); saturates to +-1. */
function tanh(u: number): number {
  return 1 - 2 / (Math.exp(2 * u) + 1);
}

/**
 * GELU (tanh approximation): y = 0.5 x (1 + t), t = tanh(c (x + a x^3)), one pass each way;
 * t is saved so backward needs no second tanh.
 */
export const geluRoutine: Routine<NoAttrs> = {
  forward([input], _attrs, ctx) {
    const x = dense(input!);
    const y = Tensor.empty(x.backend, x.shape, 'float32', 'gelu');
    const th = ctx.needsGrad[0]
      ? Tensor.empty(x.backend, x.shape, 'float32', 'gelu-tanh')
      : undefined;
    const xs = f32(x);
    const ys = f32(y);
    const ts = th ? f32(th) : undefined;
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]!;
      const t = tanh(GELU_C * (v + GELU_A * v * v * v));
      ys[i] = 0.5 * v * (1 + t);
      if (ts) ts[i] = t;
    }
    ctx.save(th ? x : undefined, th);
    x.dispose();
    th?.dispose();
    return y;
  },
  backward(grad, ctx) {
    const [x, th] = ctx.saved as [Tensor, Tensor];
    const g = dense(grad);
    const dx = Tensor.empty(x.backend, x.shape, 'float32', 'gelu-backward');
    const xs = f32(x);
    const ts = f32(th);
    const gs = f32(g);
    const ds = f32(dx);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]!;
      const t = ts[i]!;
      // d/dx: 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
      ds[i] = gs[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v));
    }
    g.dispose();
    return [dx];
  },
};

/**
 * LayerNorm over the last axis (biased variance), forward and backward one pass per row:
 * dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with dxhat = g w;
 * dw = sum_rows g xhat; db = sum_rows g. Saves x and per-row mean and 1/std.
 */
export const layerNormRoutine: Routine<NormAttrs> = normRoutineFrame('layerNorm', {
  forward({ x, w, b, y, stats, rows, C, eps }) {
    const xs = f32(x);
    const ys = f32(y);
    const st = f32(stats);
    const ws = w ? f32(w) : undefined;
    const bs = b ? f32(b) : undefined;
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let sum = 0;
      for (let j = 0; j < C; j++) sum += xs[o + j]!;
      const mean = sum / C;
      let sq = 0;
      for (let j = 0; j < C; j++) {
        const d = xs[o + j]! - mean;
        sq += d * d;
      }
      const rstd = 1 / Math.sqrt(sq / C + eps);
      st[2 * r] = mean;
      st[2 * r + 1] = rstd;
      for (let j = 0; j < C; j++) {
        let v = (xs[o + j]! - mean) * rstd;
        if (ws) v *= ws[j]!;
        if (bs) v += bs[j]!;
        ys[o + j] = v;
      }
    }
  },
  backward({ x, w, g, stats, rows, C, dx, dw, db }) {
    const xs = f32(x);
    const gs = f32(g);
    const st = f32(stats);
    const ws = w ? f32(w) : undefined;
    const dwAcc = dw ? new Float64Array(C) : undefined;
    const dbAcc = db ? new Float64Array(C) : undefined;
    const ds = dx ? f32(dx) : undefined;
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      const mean = st[2 * r]!;
      const rstd = st[2 * r + 1]!;
      let sumD = 0;
      let sumDX = 0;
      for (let j = 0; j < C; j++) {
        const xh = (xs[o + j]! - mean) * rstd;
        const gv = gs[o + j]!;
        const d = ws ? gv * ws[j]! : gv;
        sumD += d;
        sumDX += d * xh;
        if (dwAcc) dwAcc[j] += gv * xh;
        if (dbAcc) dbAcc[j] += gv;
      }
      if (ds) {
        const mD = sumD / C;
        const mDX = sumDX / C;
        for (let j = 0; j < C; j++) {
          const xh = (xs[o + j]! - mean) * rstd;
          const d = ws ? gs[o + j]! * ws[j]! : gs[o + j]!;
          ds[o + j] = rstd * (d - mD - xh * mDX);
        }
      }
    }
    if (dw) f32(dw).set(dwAcc!);
    if (db) f32(db).set(dbAcc!);
  },
});

/** The fused routines the fast CPU backend registers, by composite op name. */
export const cpuFusedRoutines: RoutineTable = {
  gelu: geluRoutine,
  layerNorm: layerNormRoutine,
  scaledDotProductAttention: attentionRoutine,
};

/**
 * Fused CPU routines for the composite ops that dominate a transformer step after the matmuls
 * (profile of bench/transformer-block.mjs: the elementwise kernels of the GELU, LayerNorm and
 * attention compositions and their gradient rules; attention lives in attention-routine.ts). Each runs forward and backward as one pass per row in
 * float64 arithmetic instead of ~10 elementwise kernels with a temporary tensor each. They are
 * registered on the fast CPU backend; the reference backend keeps the compositions, which stay
 * the definition (both run the same conformance suite and finite-difference checks).
 */
import type { Routine } from '../backend.js';
import { Tensor } from '../tensor.js';
import { attentionRoutine } from './attention-routine.js';
import type { CpuBackend } from './cpu-backend.js';

/** The float32 elements of a contiguous tensor, as a subarray. */
function data(t: Tensor): Float32Array {
  const v = t.view();
  return ((t.backend as CpuBackend).array(v) as Float32Array).subarray(v.offset, v.offset + t.size);
}

/** `t` itself when contiguous (a new alias, so callers dispose uniformly), else a copy. */
function dense(t: Tensor): Tensor {
  return t.isContiguous ? t.alias() : t.contiguous();
}

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
export const geluRoutine: Routine = {
  forward([input], _attrs, ctx) {
    const x = dense(input!);
    const y = Tensor.empty(x.backend, x.shape, 'float32', 'gelu');
    const th = ctx.needsGrad[0]
      ? Tensor.empty(x.backend, x.shape, 'float32', 'gelu-tanh')
      : undefined;
    const xs = data(x);
    const ys = data(y);
    const ts = th ? data(th) : undefined;
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
    const xs = data(x);
    const ts = data(th);
    const gs = data(g);
    const ds = data(dx);
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

interface NormAttrs {
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

/**
 * LayerNorm over the last axis (biased variance), forward and backward one pass per row:
 * dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with dxhat = g w;
 * dw = sum_rows g xhat; db = sum_rows g. Saves x and per-row mean and 1/std.
 */
export const layerNormRoutine: Routine = {
  forward(inputs, attrs: NormAttrs, ctx) {
    const x = dense(inputs[0]!);
    const w = attrs.hasWeight ? dense(inputs[1]!) : undefined;
    const b = attrs.hasBias ? dense(inputs[2]!) : undefined;
    const C = x.shape[x.rank - 1]!;
    const rows = C === 0 ? 0 : x.size / C;
    const y = Tensor.empty(x.backend, x.shape, 'float32', 'layerNorm');
    const stats = Tensor.empty(x.backend, [rows, 2], 'float32', 'layerNorm-stats');
    const xs = data(x);
    const ys = data(y);
    const st = data(stats);
    const ws = w ? data(w) : undefined;
    const bs = b ? data(b) : undefined;
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
      const rstd = 1 / Math.sqrt(sq / C + attrs.eps);
      st[2 * r] = mean;
      st[2 * r + 1] = rstd;
      for (let j = 0; j < C; j++) {
        let v = (xs[o + j]! - mean) * rstd;
        if (ws) v *= ws[j]!;
        if (bs) v += bs[j]!;
        ys[o + j] = v;
      }
    }
    ctx.save(x, w, stats);
    for (const t of [x, w, b, stats]) t?.dispose();
    return y;
  },
  backward(grad, ctx) {
    const [x, w, stats] = ctx.saved as [Tensor, Tensor | undefined, Tensor];
    const attrs = ctx.attrs as NormAttrs;
    const g = dense(grad);
    const C = x.shape[x.rank - 1]!;
    const rows = C === 0 ? 0 : x.size / C;
    const xs = data(x);
    const gs = data(g);
    const st = data(stats);
    const ws = w ? data(w) : undefined;
    const dx = ctx.needsGrad[0]
      ? Tensor.empty(x.backend, x.shape, 'float32', 'layerNorm-dx')
      : null;
    const wantW = attrs.hasWeight && ctx.needsGrad[1];
    const wantB = attrs.hasBias && ctx.needsGrad[2];
    const dwAcc = wantW ? new Float64Array(C) : undefined;
    const dbAcc = wantB ? new Float64Array(C) : undefined;
    const ds = dx ? data(dx) : undefined;
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
    g.dispose();
    const vector = (acc: Float64Array | undefined, name: string): Tensor | null => {
      if (!acc) return null;
      const t = Tensor.empty(x.backend, [C], 'float32', name);
      data(t).set(acc);
      return t;
    };
    const out: (Tensor | null)[] = [dx];
    if (attrs.hasWeight) out.push(vector(dwAcc, 'layerNorm-dw'));
    if (attrs.hasBias) out.push(vector(dbAcc, 'layerNorm-db'));
    return out;
  },
};

/** The fused routines the fast CPU backend registers, by composite op name. */
export const cpuFusedRoutines: Readonly<Record<string, Routine>> = {
  gelu: geluRoutine,
  layerNorm: layerNormRoutine,
  scaledDotProductAttention: attentionRoutine,
};

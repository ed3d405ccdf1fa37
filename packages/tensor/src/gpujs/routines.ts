/**
 * Fused routines of the gpu.js backend: softmax and log-softmax (a row pass for the
 * log-sum-exp, then one pointwise pass), per-token cross-entropy (row pass plus one pass per
 * token; backward in one pass over the logits), and AdamW (three pointwise passes instead of
 * the ~11 kernels and temporaries of the composition). A fragment shader writes one element, so
 * a row statistic is its own pass; everything else of the composition is folded into the
 * pointwise passes around it. Checked by the same conformance cases and finite-difference
 * gradients as the compositions.
 */
import type { Routine, TensorView } from '../backend.js';
import { dense } from '../fused-frames.js';
import type { AdamWRoutineAttrs } from '../ops/adamw.js';
import { shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { GpuJsBackend } from './backend.js';
import { elementwise, intoView } from './elementwise.js';

const gpuOf = (t: Tensor) => t.backend as GpuJsBackend;

/** `t` (contiguous) seen as [outer, L, inner] along `axis`; `stat` as [outer, 1->L, inner]. */
function axisViews(t: Tensor, axis: number): { x: TensorView; row: (s: Tensor) => TensorView } {
  const L = t.shape[axis];
  const inner = shapeSize(t.shape.slice(axis + 1));
  const outer = L === 0 ? 0 : t.size / (L * inner);
  const shape = [outer, L, inner];
  return {
    x: { ...t.view(), shape, strides: [L * inner, inner, 1] },
    row: (s) => ({ ...s.view(), shape, strides: [inner, 0, 1] }),
  };
}

/**
 * A row pass over `x` viewed along `axis`: per row, `init` then `step` (over `v` = the element,
 * `w` = the same element of `y` when given) and `result`, into a new [rows] tensor.
 */
function rowPass(name: string, x: Tensor, axis: number, body: string, y?: Tensor): Tensor {
  const gpu = gpuOf(x);
  const L = x.shape[axis];
  const inner = shapeSize(x.shape.slice(axis + 1));
  const rows = L === 0 ? 0 : x.size / L;
  const out = Tensor.empty(x.backend, [rows], 'float32', name);
  if (rows === 0) return out;
  const xv = x.view();
  const yv = (y ?? x).view();
  intoView(
    gpu,
    out.view(),
    {
      key: `row:${name}`,
      args: [
        ['x', 'Texture'],
        ['y', 'Texture'],
        ['xo', 'Float'],
        ['yo', 'Float'],
        ['L', 'Float'],
        ['inner', 'Float'],
      ],
      source: () => `function (x, y, xo, yo, L, inner) {
  const row = this.thread.x;
  const o = idiv(row, inner);
  const base = o * L * inner + (row - o * inner);
  ${body}
}`,
    },
    [gpu.texOf(xv), gpu.texOf(yv), xv.offset, yv.offset, L, inner],
  );
  return out;
}

const LSE = `let m = -3.4e38;
  let nan = 0;
  for (let j = 0; j < L; j++) { const v = x[xo + base + j * inner]; nan = Math.max(nan, isNan(v)); m = Math.max(m, v); }
  let s = 0;
  for (let q = 0; q < L; q++) { s += Math.exp(x[xo + base + q * inner] - m); }
  return nanOr(nan, m + Math.log(s));`;

function softmaxRoutine(log: boolean): Routine {
  const name = log ? 'logSoftmax' : 'softmax';
  return {
    forward([input], { axis }: { axis: number }, ctx) {
      const x = dense(input);
      const lse = rowPass(`${name}-lse`, x, axis, LSE);
      const y = Tensor.empty(x.backend, x.shape, 'float32', name);
      const v = axisViews(x, axis);
      elementwise(
        gpuOf(x),
        name,
        axisViews(y, axis).x,
        [v.x, v.row(lse)],
        log ? 'v0 - v1' : 'Math.exp(v0 - v1)',
      );
      ctx.save(y);
      x.dispose();
      lse.dispose();
      return y;
    },
    backward(grad, ctx) {
      const [y] = ctx.saved as [Tensor];
      const { axis } = ctx.attrs as { axis: number };
      const g = dense(grad);
      // softmax: dx = y (g - sum(g y)); log-softmax: dx = g - exp(y) sum(g)
      const s = rowPass(
        `${name}-bwd-sum`,
        g,
        axis,
        `let s = 0; for (let j = 0; j < L; j++) { const k = base + j * inner; s += x[xo + k]${log ? '' : ' * y[yo + k]'}; } return s;`,
        y,
      );
      const dx = Tensor.empty(y.backend, y.shape, 'float32', `${name}-backward`);
      const vy = axisViews(y, axis);
      const vg = axisViews(g, axis);
      elementwise(
        gpuOf(y),
        `${name}-bwd`,
        axisViews(dx, axis).x,
        [vy.x, vg.x, vy.row(s)],
        log ? 'v1 - Math.exp(v0) * v2' : 'v0 * (v1 - v2)',
      );
      g.dispose();
      s.dispose();
      return [dx];
    },
  };
}

interface CeAttrs {
  ignoreIndex: number;
  hasMask: boolean;
}

/** Per token: 1 when it counts (target != ignoreIndex, mask != 0), else 0. */
const ACTIVE = (t: string, mask?: string) =>
  `(1 - cmpEq(${t}, s0))${mask ? ` * (1 - cmpEq(${mask}, 0))` : ''}`;

const crossEntropyRoutine: Routine = {
  forward(inputs, attrs: CeAttrs, ctx) {
    const logits = dense(inputs[0]);
    const targets = dense(inputs[1]);
    const mask = attrs.hasMask ? dense(inputs[2]) : undefined;
    const V = logits.shape[logits.rank - 1];
    const rows = targets.size;
    const gpu = gpuOf(logits);
    const lse = rowPass('crossEntropy-lse', logits, logits.rank - 1, LSE);
    const loss = Tensor.empty(logits.backend, targets.shape, 'float32', 'crossEntropy');
    if (rows > 0) {
      // The picked logit per token: x[r, clamp(t)] read as a gathered view is not expressible,
      // so a small per-token pass reads it by index.
      const picked = Tensor.empty(logits.backend, [rows], 'float32', 'crossEntropy-picked');
      const lv = logits.view();
      const tv = targets.view();
      intoView(
        gpu,
        picked.view(),
        {
          key: 'crossEntropy-pick',
          args: [
            ['x', 'Texture'],
            ['t', 'Texture'],
            ['xo', 'Float'],
            ['to', 'Float'],
            ['V', 'Float'],
          ],
          source: () => `function (x, t, xo, to, V) {
  const r = this.thread.x;
  const c = Math.min(Math.max(t[to + r], 0), V - 1);
  return x[xo + r * V + c];
}`,
        },
        [gpu.texOf(lv), gpu.texOf(tv), lv.offset, tv.offset, V],
      );
      const flat = (t: Tensor) => ({ ...t.view(), shape: [rows], strides: [1] });
      const ins = [flat(lse), flat(picked), flat(targets), ...(mask ? [flat(mask)] : [])];
      elementwise(
        gpu,
        `crossEntropy-loss:${!!mask}`,
        flat(loss),
        ins,
        `selectJs(${ACTIVE('v2', mask ? 'v3' : undefined)}, v0 - v1, 0)`,
        [attrs.ignoreIndex],
      );
      picked.dispose();
    }
    if (ctx.needsGrad[0]) ctx.save(logits, targets, lse, mask);
    for (const t of [logits, targets, lse, mask]) t?.dispose();
    return loss;
  },
  backward(grad, ctx) {
    const [logits, targets, lse, mask] = ctx.saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const attrs = ctx.attrs as CeAttrs;
    const g = dense(grad);
    const V = logits.shape[logits.rank - 1];
    const rows = targets.size;
    const dl = Tensor.empty(logits.backend, logits.shape, 'float32', 'crossEntropy-backward');
    const shape = [rows, V];
    const perRow = (t: Tensor): TensorView => ({ ...t.view(), shape, strides: [1, 0] });
    const ins = [
      { ...logits.view(), shape, strides: [V, 1] },
      perRow(lse),
      perRow(targets),
      perRow(g),
      ...(mask ? [perRow(mask)] : []),
    ];
    // dl[r, j] = g[r] (softmax(x)[r, j] - [j == t[r]]) for tokens that count, else 0.
    elementwise(
      gpuOf(logits),
      `crossEntropy-bwd:${!!mask}`,
      { ...dl.view(), shape, strides: [V, 1] },
      ins,
      `selectJs(${ACTIVE('v2', mask ? 'v4' : undefined)}, v3 * (Math.exp(v0 - v1) - cmpEq(e - idiv(e, s1) * s1, v2)), 0)`,
      [attrs.ignoreIndex, V],
    );
    g.dispose();
    return attrs.hasMask ? [dl, null, null] : [dl, null];
  },
};

/**
 * AdamW in three pointwise passes (param first: it needs the old moments, from which it forms
 * the new ones itself; then m and v). Same float32 formula and order as the other backends:
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   p = p decay - (stepSize m) / (sqrt(v) invBc2Sqrt + eps)
 */
export const adamwRoutine: Routine & { path: 'routine' } = {
  path: 'routine',
  forward(inputs: readonly Tensor[], a: AdamWRoutineAttrs): Tensor {
    const [param, grad, m, v] = inputs as [Tensor, Tensor, Tensor, Tensor];
    const gpu = gpuOf(param);
    const [pv, gv, mv, vv] = [param.view(), grad.view(), m.view(), v.view()];
    const k = [
      a.decay,
      a.beta1,
      a.beta2,
      a.oneMinusBeta1,
      a.oneMinusBeta2,
      a.stepSize,
      a.invBc2Sqrt,
      a.eps,
    ];
    const M = 's1 * v2 + s3 * v1';
    const VV = 's2 * v3 + s4 * (v1 * v1)';
    elementwise(
      gpu,
      'adamw-p',
      pv,
      [pv, gv, mv, vv],
      `v0 * s0 - (s5 * (${M})) / (Math.sqrt(${VV}) * s6 + s7)`,
      k,
    );
    elementwise(gpu, 'adamw-m', mv, [mv, gv], 's1 * v0 + s3 * v1', k);
    elementwise(gpu, 'adamw-v', vv, [vv, gv], 's2 * v0 + s4 * (v1 * v1)', k);
    return param.alias();
  },
};

export const gpuJsRoutines: Readonly<Record<string, Routine>> = {
  softmax: softmaxRoutine(false),
  logSoftmax: softmaxRoutine(true),
  crossEntropy: crossEntropyRoutine,
  adamwStep: adamwRoutine,
};

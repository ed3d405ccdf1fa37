/**
 * Fused routines of the gpu.js backend: softmax and log-softmax (a row pass for the
 * log-sum-exp, then one pointwise pass), per-token cross-entropy (row pass plus one pass per
 * token; backward in one pass over the logits), the vocabulary head fused with it (logits one
 * chunk of rows at a time), and AdamW (three pointwise passes instead of the ~11 kernels and
 * temporaries of the composition). A fragment shader writes one element, so
 * a row statistic is its own pass; everything else of the composition is folded into the
 * pointwise passes around it. Checked by the same conformance cases and finite-difference
 * gradients as the compositions.
 */
import type { TensorView } from '../backend.js';
import { dense } from '../fused-frames.js';
import type { AdamWRoutineAttrs } from '../ops/adamw.js';
import type { CrossEntropyAttrs, Routine, RoutineTable, SoftmaxAttrs } from '../routine.js';
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
  // The log-sum-exp body loops over the row twice.
  gpu.checkLoop(body.includes('for (let q') ? 2 * L : L, name);
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

function softmaxRoutine(log: boolean): Routine<SoftmaxAttrs> {
  const name = log ? 'logSoftmax' : 'softmax';
  return {
    forward([input], { axis }, ctx) {
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
      const { axis } = ctx.attrs;
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

type CeAttrs = CrossEntropyAttrs;

/** Per token: 1 when it counts (target != ignoreIndex, mask != 0), else 0. */
const ACTIVE = (t: string, mask?: string) =>
  `(1 - cmpEq(${t}, s0))${mask ? ` * (1 - cmpEq(${mask}, 0))` : ''}`;

/** `n` elements of `t` from element `r0` (a flat view of a contiguous tensor). */
const flatAt = (t: Tensor, r0: number, n: number): TensorView => ({
  ...t.view(),
  shape: [n],
  strides: [1],
  offset: t.offset + r0,
});

/**
 * Cross-entropy forward of `rows` tokens: `logits` [rows, V] (contiguous), targets, mask and
 * the outputs `loss` and `lse` as [rows] views.
 */
function ceForward(
  logits: Tensor,
  targets: TensorView,
  mask: TensorView | undefined,
  loss: TensorView,
  lse: TensorView,
  ignoreIndex: number,
): void {
  const gpu = gpuOf(logits);
  const rows = targets.shape[0];
  if (rows === 0) return;
  const V = logits.shape[logits.rank - 1];
  const stat = rowPass('crossEntropy-lse', logits, logits.rank - 1, LSE);
  // The picked logit per token, read by index (a gather along the last axis).
  const picked = Tensor.empty(logits.backend, [rows], 'float32', 'crossEntropy-picked');
  const lv = logits.view();
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
    [gpu.texOf(lv), gpu.texOf(targets), lv.offset, targets.offset, V],
  );
  const sv = flatAt(stat, 0, rows);
  elementwise(gpu, 'copy', lse, [sv], 'v0');
  const ins = [sv, flatAt(picked, 0, rows), targets, ...(mask ? [mask] : [])];
  elementwise(
    gpu,
    `crossEntropy-loss:${!!mask}`,
    loss,
    ins,
    `selectJs(${ACTIVE('v2', mask ? 'v3' : undefined)}, v0 - v1, 0)`,
    [ignoreIndex],
  );
  picked.dispose();
  stat.dispose();
}

/**
 * Cross-entropy backward of `rows` tokens into `out` [rows, V] (may be `logits` itself):
 * g[r] (softmax(x)[r, j] - [j == t[r]]) for tokens that count, else 0.
 */
function ceBackward(
  gpu: GpuJsBackend,
  logits: TensorView,
  lse: TensorView,
  targets: TensorView,
  g: TensorView,
  mask: TensorView | undefined,
  out: TensorView,
  ignoreIndex: number,
): void {
  const [rows, V] = logits.shape;
  const shape = [rows, V];
  const perRow = (v: TensorView): TensorView => ({ ...v, shape, strides: [1, 0] });
  const ins = [logits, perRow(lse), perRow(targets), perRow(g), ...(mask ? [perRow(mask)] : [])];
  elementwise(
    gpu,
    `crossEntropy-bwd:${!!mask}`,
    out,
    ins,
    `selectJs(${ACTIVE('v2', mask ? 'v4' : undefined)}, v3 * (Math.exp(v0 - v1) - cmpEq(e - idiv(e, s1) * s1, v2)), 0)`,
    [ignoreIndex, V],
  );
}

const crossEntropyRoutine: Routine<CeAttrs> = {
  forward(inputs, attrs, ctx) {
    const targets = dense(inputs[1]);
    const rows = targets.size;
    const V = inputs[0].shape[inputs[0].rank - 1];
    const logits = dense(inputs[0]);
    const flat = logits.reshape([rows, V]);
    const mask = attrs.hasMask ? dense(inputs[2]) : undefined;
    const loss = Tensor.empty(logits.backend, targets.shape, 'float32', 'crossEntropy');
    const lse = Tensor.empty(logits.backend, [rows], 'float32', 'crossEntropy-lse');
    const at = (t: Tensor) => flatAt(t, 0, rows);
    ceForward(flat, at(targets), mask && at(mask), at(loss), at(lse), attrs.ignoreIndex);
    if (ctx.needsGrad[0]) ctx.save(flat, targets, lse, mask);
    for (const t of [logits, flat, targets, lse, mask]) t?.dispose();
    return loss;
  },
  backward(grad, ctx) {
    const [logits, targets, lse, mask] = ctx.saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const attrs = ctx.attrs;
    const g = dense(grad);
    const rows = targets.size;
    const dl = Tensor.empty(logits.backend, logits.shape, 'float32', 'crossEntropy-backward');
    const at = (t: Tensor) => flatAt(t, 0, rows);
    ceBackward(
      gpuOf(logits),
      logits.view(),
      at(lse),
      at(targets),
      at(g),
      mask && at(mask),
      dl.view(),
      attrs.ignoreIndex,
    );
    g.dispose();
    const shaped = dl.reshape(ctx.inputShapes[0]);
    dl.dispose();
    return attrs.hasMask ? [shaped, null, null] : [shaped, null];
  },
};

/** Logit elements per chunk of the fused head (16 MiB): far below the 2^24-element limit. */
const HEAD_CHUNK = 1 << 22;

/**
 * The vocabulary head fused with cross-entropy: the [N, V] logits exist one chunk of rows at a
 * time (forward and backward recompute them), so a large vocabulary stays within the texture
 * limits and memory; backward turns each chunk into its gradient and multiplies it out.
 */
const linearCrossEntropyRoutine: Routine<CeAttrs> = {
  forward(inputs, attrs, ctx) {
    const [xIn, wIn, tIn] = inputs;
    const C = xIn.shape[xIn.rank - 1];
    const N = tIn.size;
    const xd = dense(xIn);
    const x = xd.reshape([N, C]);
    xd.dispose();
    const w = dense(wIn);
    const targets = dense(tIn);
    const mask = attrs.hasMask ? dense(inputs[3]) : undefined;
    const V = w.shape[0];
    const loss = Tensor.empty(x.backend, tIn.shape, 'float32', 'linearCrossEntropy');
    const lse = Tensor.empty(x.backend, [N], 'float32', 'linearCrossEntropy-lse');
    const wT = w.mT;
    const size = Math.max(1, Math.floor(HEAD_CHUNK / Math.max(V, 1)));
    for (let r0 = 0; r0 < N; r0 += size) {
      const n = Math.min(size, N - r0);
      const xc = x.slice(0, r0, r0 + n);
      const logits = xc.matmul(wT);
      const at = (t: Tensor) => flatAt(t, r0, n);
      ceForward(logits, at(targets), mask && at(mask), at(loss), at(lse), attrs.ignoreIndex);
      for (const t of [xc, logits]) t.dispose();
    }
    wT.dispose();
    ctx.save(x, w, targets, lse, mask);
    for (const t of [x, w, targets, lse, mask]) t?.dispose();
    return loss;
  },
  backward(grad, ctx) {
    const [x, w, targets, lse, mask] = ctx.saved as [
      Tensor,
      Tensor,
      Tensor,
      Tensor,
      Tensor | undefined,
    ];
    const attrs = ctx.attrs;
    const gpu = gpuOf(x);
    const g = dense(grad);
    const [N, C] = x.shape;
    const V = w.shape[0];
    const dx = ctx.needsGrad[0] ? Tensor.empty(x.backend, [N, C], 'float32', 'lce-dx') : null;
    let dw: Tensor | null = null;
    const wT = w.mT;
    const size = Math.max(1, Math.floor(HEAD_CHUNK / Math.max(V, 1)));
    for (let r0 = 0; r0 < N; r0 += size) {
      const n = Math.min(size, N - r0);
      const xc = x.slice(0, r0, r0 + n);
      const dl = xc.matmul(wT); // the chunk's logits, then their gradient in place
      const at = (t: Tensor) => flatAt(t, r0, n);
      ceBackward(
        gpu,
        dl.view(),
        at(lse),
        at(targets),
        at(g),
        mask && at(mask),
        dl.view(),
        attrs.ignoreIndex,
      );
      if (dx) {
        const part = dl.matmul(w);
        elementwise(
          gpu,
          'copy',
          { ...dx.view(), shape: [n, C], strides: [C, 1], offset: r0 * C },
          [part.view()],
          'v0',
        );
        part.dispose();
      }
      if (ctx.needsGrad[1]) {
        const part = dl.mT.matmul(xc);
        if (dw) {
          const sum: Tensor = dw.add(part);
          dw.dispose();
          part.dispose();
          dw = sum;
        } else dw = part;
      }
      for (const t of [xc, dl]) t.dispose();
    }
    wT.dispose();
    g.dispose();
    const dxShaped = dx ? dx.reshape(ctx.inputShapes[0]) : null;
    dx?.dispose();
    const out: (Tensor | null)[] = [
      dxShaped,
      ctx.needsGrad[1] ? (dw ?? w.zerosLike()) : null,
      null,
    ];
    if (attrs.hasMask) out.push(null);
    return out;
  },
};

/**
 * AdamW in three pointwise passes (param first: it needs the old moments, from which it forms
 * the new ones itself; then m and v). Same float32 formula and order as the other backends:
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   p = p decay - (stepSize m) / (sqrt(v) invBc2Sqrt + eps)
 */
export const adamwRoutine: Routine<AdamWRoutineAttrs> & { path: 'routine' } = {
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

export const gpuJsRoutines: RoutineTable = {
  softmax: softmaxRoutine(false),
  logSoftmax: softmaxRoutine(true),
  crossEntropy: crossEntropyRoutine,
  linearCrossEntropy: linearCrossEntropyRoutine,
  adamwStep: adamwRoutine,
};

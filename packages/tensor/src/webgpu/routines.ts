/**
 * Fused WGSL routines for the composite ops that dominate a training step: softmax and
 * log-softmax, per-token cross-entropy (and the vocabulary head fused with it, chunked so the
 * [N, V] logits never exist whole), layer/RMS normalization, GELU, SiLU, and causal attention
 * (scale, mask and softmax in one row pass; the four products on the matmul kernel). Each runs
 * as one row kernel (one invocation per row, or a workgroup per row for long rows) instead of a
 * chain of elementwise kernels with a temporary each, forward and backward. They are checked by
 * the same conformance cases and finite-difference gradients as the compositions.
 */
import type { TensorView } from '../backend.js';
import { dense, materializedAttentionRoutine, normRoutineFrame } from '../fused-frames.js';
import type {
  CrossEntropyAttrs,
  NoAttrs,
  NormAttrs,
  Routine,
  RoutineTable,
  SoftmaxAttrs,
} from '../routine.js';
import { shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import { adamwRoutine } from './adamw.js';
import type { WebGpuBackend } from './backend.js';
import { bindViews, floatWord, wgslType } from './bindings.js';
import { elementwise } from './elementwise-kernels.js';
import { rowGrid, rowLanes } from './reduce-kernels.js';
import { declare, FLOAT_HELPERS, loader, rowEntry, rowHelpers, storer } from './wgsl.js';

const gpuOf = (t: Tensor) => t.backend as WebGpuBackend;

/**
 * Launches a row kernel: `body` runs per row with `row`, `lane`, `L` (row length), `off<k>`
 * (operand k's offset), loaders `ld<k>(i)`, storers `st<k>(i, v)` for the written operands, and
 * extra parameter words `E(k)` / `Ef(k)`. `errors` adds the device error buffer as `err`.
 */
function rowKernel(
  gpu: WebGpuBackend,
  name: string,
  rows: number,
  L: number,
  views: readonly TensorView[],
  writes: readonly number[],
  body: string,
  extra: readonly number[] = [],
  errors = false,
): void {
  if (rows === 0) return;
  const lanes = rowLanes(gpu, L);
  const bound = bindViews(gpu, views, writes, name);
  const buffers = [...bound.buffers];
  const bindings = [...bound.bindings];
  if (errors) {
    buffers.push({ buf: gpu.errorBuffer, write: true });
    bindings.push({ binding: buffers.length, write: true });
  }
  const errBinding = buffers.length;
  const { grid, width } = rowGrid(gpu, rows, lanes, name);
  const wg = gpu.workgroupSize;
  const types = views.map((v) => wgslType(v.dtype));
  const nv = views.length;
  gpu.launch({
    key: `row:${name}:${types.join('')}:${lanes}:${bound.key}:${wg}`,
    buffers,
    grid,
    params: [width, rows, L, ...views.map((v) => v.offset), ...extra],
    code: () => {
      const fns: string[] = [];
      views.forEach((_, k) => {
        fns.push(loader(`ld${k}`, bound.slot[k], types[k]));
        if (writes.includes(k)) fns.push(storer(`st${k}`, bound.slot[k], types[k]));
      });
      const offs = views.map((_, k) => `let off${k} = P[${3 + k}];`).join(' ');
      return `${declare(bindings)}
${FLOAT_HELPERS}
${rowHelpers(lanes)}
${fns.join('\n')}
fn E(k: i32) -> i32 { return P[${3 + nv} + k]; }
fn Ef(k: i32) -> f32 { return bitcast<f32>(P[${3 + nv} + k]); }
${errors ? `fn flag(code: u32, value: i32, pos: i32) { b${errBinding}[0] = code; b${errBinding}[1] = bitcast<u32>(value); b${errBinding}[2] = u32(pos); }` : ''}
${rowEntry(lanes, wg)}
  let L = P[2];
  ${offs}
${body}
}`;
    },
  });
}

// ---- softmax / log-softmax along any axis -------------------------------------------------------

/** Row r of x viewed as [outer, L, inner]: its first element and the step between elements. */
const AXIS_ROW = `
  let inner = E(0);
  let o = row / inner;
  let base = o * L * inner + (row - o * inner);
`;

function softmaxRoutine(log: boolean): Routine<SoftmaxAttrs> {
  return {
    forward([input], { axis }, ctx) {
      const x = dense(input);
      const L = x.shape[axis];
      const inner = shapeSize(x.shape.slice(axis + 1));
      const rows = L === 0 ? 0 : x.size / L;
      const y = Tensor.empty(x.backend, x.shape, 'float32', log ? 'logSoftmax' : 'softmax');
      rowKernel(
        gpuOf(x),
        log ? 'logSoftmax' : 'softmax',
        rows,
        L,
        [x.view(), y.view()],
        [1],
        `${AXIS_ROW}
  var m = neg_inf();
  for (var j = lane; j < L; j += LANES) { let v = ld0(off0 + base + j * inner); if (v > m || is_nan(v)) { m = v; } }
  m = red_max(m, lane);
  var s = 0.0;
  for (var j = lane; j < L; j += LANES) { s += exp(ld0(off0 + base + j * inner) - m); }
  s = red_sum(s, lane);
  ${log ? 'let ls = m + log(s);' : 'let inv = 1.0 / s;'}
  for (var j = lane; j < L; j += LANES) {
    let v = ld0(off0 + base + j * inner);
    st1(off1 + base + j * inner, ${log ? 'v - ls' : 'exp(v - m) * inv'});
  }`,
        [inner],
      );
      ctx.save(y);
      x.dispose();
      return y;
    },
    backward(grad, ctx) {
      const [y] = ctx.saved as [Tensor];
      const { axis } = ctx.attrs;
      const g = dense(grad);
      const L = y.shape[axis];
      const inner = shapeSize(y.shape.slice(axis + 1));
      const rows = L === 0 ? 0 : y.size / L;
      const dx = Tensor.empty(y.backend, y.shape, 'float32', 'softmax-backward');
      // softmax: dx = y (g - sum(g y)); log-softmax: dx = g - exp(y) sum(g)
      rowKernel(
        gpuOf(y),
        log ? 'logSoftmax-bwd' : 'softmax-bwd',
        rows,
        L,
        [y.view(), g.view(), dx.view()],
        [2],
        `${AXIS_ROW}
  var s = 0.0;
  for (var j = lane; j < L; j += LANES) {
    let k = base + j * inner;
    s += ${log ? 'ld1(off1 + k)' : 'ld1(off1 + k) * ld0(off0 + k)'};
  }
  s = red_sum(s, lane);
  for (var j = lane; j < L; j += LANES) {
    let k = base + j * inner;
    let yv = ld0(off0 + k);
    let gv = ld1(off1 + k);
    st2(off2 + k, ${log ? 'gv - exp(yv) * s' : 'yv * (gv - s)'});
  }`,
        [inner],
      );
      g.dispose();
      return [dx];
    },
  };
}

// ---- cross-entropy per token (and the fused vocabulary head) ------------------------------------

type CeAttrs = CrossEntropyAttrs;

/** Whether token `row` counts: target != ignoreIndex and (no mask or mask != 0). */
function activeExpr(hasMask: boolean): string {
  return `let t = ld1(off1 + row);
  var on = t != E(0);
  ${hasMask ? 'if (f32(ld4(off4 + row)) == 0.0) { on = false; }' : ''}`;
}

/**
 * Loss and log-sum-exp of rows of logits (view 0, [rows, L]) with int32 targets (1): writes
 * loss (2) and lse (3); mask (4) optional. Out-of-range active targets flag an error.
 */
function ceForward(
  gpu: WebGpuBackend,
  rows: number,
  V: number,
  logits: TensorView,
  targets: TensorView,
  loss: TensorView,
  lse: TensorView,
  mask: TensorView | undefined,
  ignoreIndex: number,
): void {
  const views = [logits, targets, loss, lse, ...(mask ? [mask] : [])];
  rowKernel(
    gpu,
    `ce-fwd${mask ? '-mask' : ''}`,
    rows,
    V,
    views,
    [2, 3],
    `  let base = off0 + row * L;
  var m = neg_inf();
  for (var j = lane; j < L; j += LANES) { let v = ld0(base + j); if (v > m || is_nan(v)) { m = v; } }
  m = red_max(m, lane);
  var s = 0.0;
  for (var j = lane; j < L; j += LANES) { s += exp(ld0(base + j) - m); }
  s = red_sum(s, lane);
  let ls = m + log(s);
  ${activeExpr(!!mask)}
  if (lane == 0) {
    var l = 0.0;
    if (on) {
      if (t < 0 || t >= L) { flag(3u, t, row); } else { l = ls - ld0(base + t); }
    }
    st2(off2 + row, l);
    st3(off3 + row, ls);
  }`,
    [ignoreIndex | 0],
    true,
  );
}

/** dlogits (view 2, may alias logits 0) = g (softmax - onehot) at active rows, else 0. */
function ceBackward(
  gpu: WebGpuBackend,
  rows: number,
  V: number,
  logits: TensorView,
  targets: TensorView,
  dlogits: TensorView,
  lse: TensorView,
  mask: TensorView | undefined,
  g: TensorView,
  ignoreIndex: number,
): void {
  // operand order: 0 logits, 1 targets, 2 dlogits, 3 lse, 4 mask?, then g
  const views = [logits, targets, dlogits, lse, ...(mask ? [mask] : []), g];
  const gk = views.length - 1;
  rowKernel(
    gpu,
    `ce-bwd${mask ? '-mask' : ''}`,
    rows,
    V,
    views,
    [2],
    `  let base0 = off0 + row * L;
  let base2 = off2 + row * L;
  ${activeExpr(!!mask)}
  let gv = select(0.0, ld${gk}(off${gk} + row), on);
  let ls = ld3(off3 + row);
  for (var j = lane; j < L; j += LANES) {
    let p = exp(ld0(base0 + j) - ls);
    st2(base2 + j, gv * (p - select(0.0, 1.0, j == t)));
  }`,
    [ignoreIndex | 0],
  );
}

const crossEntropyRoutine: Routine<CeAttrs> = {
  forward(inputs, attrs, ctx) {
    const logits = dense(inputs[0]);
    const targets = dense(inputs[1]);
    const mask = attrs.hasMask ? dense(inputs[2]) : undefined;
    const V = logits.shape[logits.rank - 1];
    const rows = targets.size;
    const loss = Tensor.empty(logits.backend, targets.shape, 'float32', 'crossEntropy');
    const lse = Tensor.empty(logits.backend, [rows], 'float32', 'crossEntropy-lse');
    if (V > 0)
      ceForward(
        gpuOf(logits),
        rows,
        V,
        logits.view(),
        targets.view(),
        loss.view(),
        lse.view(),
        mask?.view(),
        attrs.ignoreIndex,
      );
    if (ctx.needsGrad[0]) ctx.save(logits, targets, lse, mask);
    for (const t of [logits, targets, lse, mask]) t?.dispose();
    return loss;
  },
  backward(grad, ctx) {
    const [logits, targets, lse, mask] = ctx.saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const attrs = ctx.attrs;
    const g = dense(grad);
    const V = logits.shape[logits.rank - 1];
    const dl = Tensor.empty(logits.backend, logits.shape, 'float32', 'crossEntropy-backward');
    ceBackward(
      gpuOf(logits),
      targets.size,
      V,
      logits.view(),
      targets.view(),
      dl.view(),
      lse.view(),
      mask?.view(),
      g.view(),
      attrs.ignoreIndex,
    );
    g.dispose();
    return attrs.hasMask ? [dl, null, null] : [dl, null];
  },
};

/** Logits floats per chunk of the fused head (64 MiB): bounds memory and binding sizes. */
const HEAD_CHUNK_FLOATS = 1 << 24;

function headChunks(gpu: WebGpuBackend, N: number, V: number): [number, number][] {
  const maxFloats = Math.min(
    HEAD_CHUNK_FLOATS,
    Math.floor(gpu.limits.maxStorageBufferBindingSize / 4),
  );
  const size = Math.max(1, Math.floor(maxFloats / Math.max(V, 1)));
  const out: [number, number][] = [];
  for (let r = 0; r < N; r += size) out.push([r, Math.min(N, r + size)]);
  return out;
}

const rowsOf = (t: Tensor, r0: number, r1: number, C: number): TensorView => ({
  ...t.view(),
  shape: [r1 - r0, C],
  strides: [C, 1],
  offset: t.offset + r0 * C,
});

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
    const gpu = gpuOf(x);
    const loss = Tensor.empty(x.backend, tIn.shape, 'float32', 'linearCrossEntropy');
    const lse = Tensor.empty(x.backend, [N], 'float32', 'linearCrossEntropy-lse');
    const wT = w.mT;
    for (const [r0, r1] of headChunks(gpu, N, V)) {
      const xc = x.slice(0, r0, r1);
      const logits = xc.matmul(wT);
      const at = (t: Tensor) => ({ ...t.view(), offset: t.offset + r0 });
      ceForward(
        gpu,
        r1 - r0,
        V,
        logits.view(),
        at(targets),
        at(loss),
        at(lse),
        mask ? at(mask) : undefined,
        attrs.ignoreIndex,
      );
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
    const wantX = ctx.needsGrad[0];
    const wantW = ctx.needsGrad[1];
    const dx = wantX ? Tensor.empty(x.backend, [N, C], 'float32', 'linearCrossEntropy-dx') : null;
    let dw: Tensor | null = null;
    const wT = w.mT;
    for (const [r0, r1] of headChunks(gpu, N, V)) {
      const xc = x.slice(0, r0, r1);
      const dl = xc.matmul(wT); // logits, overwritten in place by their gradient
      const at = (t: Tensor) => ({ ...t.view(), offset: t.offset + r0 });
      ceBackward(
        gpu,
        r1 - r0,
        V,
        dl.view(),
        at(targets),
        dl.view(),
        at(lse),
        mask ? at(mask) : undefined,
        at(g),
        attrs.ignoreIndex,
      );
      if (dx) {
        const part = dl.matmul(w);
        gpu.run({
          kernel: 'copy',
          inputs: [part.view()],
          output: rowsOf(dx, r0, r1, C),
          attrs: {},
        });
        part.dispose();
      }
      if (wantW) {
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
    const out: (Tensor | null)[] = [dxShaped, wantW ? (dw ?? w.zerosLike()) : null, null];
    if (attrs.hasMask) out.push(null);
    return out;
  },
};

// ---- layer / RMS normalization ------------------------------------------------------------------

function normRoutine(rms: boolean): Routine<NormAttrs> {
  const name = rms ? 'rmsNorm' : 'layerNorm';
  return normRoutineFrame(name, {
    forward({ x, w, b, y, stats, rows, C, eps }) {
      // operands: 0 x, 1 y, 2 stats, 3 weight?, 4 bias?
      const views = [x.view(), y.view(), stats.view()];
      if (w) views.push(w.view());
      if (b) views.push(b.view());
      rowKernel(
        gpuOf(x),
        `${name}-fwd:${!!w}${!!b}`,
        rows,
        C,
        views,
        [1, 2],
        `  let base = off0 + row * L;
  var part = 0.0;
  ${rms ? '' : 'for (var j = lane; j < L; j += LANES) { part += ld0(base + j); }'}
  let mean = ${rms ? '0.0' : 'red_sum(part, lane) / f32(L)'};
  var part2 = 0.0;
  for (var j = lane; j < L; j += LANES) { let d = ld0(base + j) - mean; part2 += d * d; }
  let rstd = 1.0 / sqrt(red_sum(part2, lane) / f32(L) + Ef(0));
  if (lane == 0) { st2(off2 + 2 * row, mean); st2(off2 + 2 * row + 1, rstd); }
  for (var j = lane; j < L; j += LANES) {
    var v = (ld0(base + j) - mean) * rstd;
    ${w ? 'v = v * ld3(off3 + j);' : ''}
    ${b ? 'v = v + ld4(off4 + j);' : ''}
    st1(off1 + row * L + j, v);
  }`,
        [floatWord(eps)],
      );
    },
    backward({ x, w, g, stats, rows, C, dx, dw, db }) {
      const gpu = gpuOf(x);
      if (dx) {
        // operands: 0 x, 1 g, 2 stats, 3 dx, 4 weight?
        const views = [x.view(), g.view(), stats.view(), dx.view()];
        if (w) views.push(w.view());
        const d = w ? 'ld1(gi) * ld4(off4 + j)' : 'ld1(gi)';
        rowKernel(
          gpu,
          `${name}-dx:${!!w}`,
          rows,
          C,
          views,
          [3],
          `  let base = row * L;
  let mean = ld2(off2 + 2 * row);
  let rstd = ld2(off2 + 2 * row + 1);
  var sumD = 0.0;
  var sumDX = 0.0;
  for (var j = lane; j < L; j += LANES) {
    let gi = off1 + base + j;
    let xh = (ld0(off0 + base + j) - mean) * rstd;
    let d = ${d};
    sumD += d;
    sumDX += d * xh;
  }
  let mD = ${rms ? '0.0' : 'red_sum(sumD, lane) / f32(L)'};
  let mDX = red_sum(sumDX, lane) / f32(L);
  for (var j = lane; j < L; j += LANES) {
    let gi = off1 + base + j;
    let xh = (ld0(off0 + base + j) - mean) * rstd;
    let d = ${d};
    st3(off3 + base + j, rstd * (d - mD - xh * mDX));
  }`,
        );
      }
      if (dw || db) {
        // One invocation per column, rows in order: dw = sum g xhat, db = sum g (the kernel
        // always writes dw: a scratch one when only db is wanted).
        const dwOut = dw ?? Tensor.empty(x.backend, [C], 'float32', `${name}-dw`);
        const views = [x.view(), g.view(), stats.view(), dwOut.view()];
        if (db) views.push(db.view());
        rowKernel(
          gpu,
          `${name}-dw:${!!db}`,
          C,
          1,
          views,
          db ? [3, 4] : [3],
          `  let j = row;
  let C = E(0);
  var sw = 0.0;
  var sb = 0.0;
  for (var r = 0; r < E(1); r++) {
    let gv = ld1(off1 + r * C + j);
    let xh = (ld0(off0 + r * C + j) - ld2(off2 + 2 * r)) * ld2(off2 + 2 * r + 1);
    sw += gv * xh;
    sb += gv;
  }
  st3(off3 + j, sw);
  ${db ? 'st4(off4 + j, sb);' : ''}`,
          [C, rows],
        );
        if (!dw) dwOut.dispose();
      }
    },
  });
}

// ---- GELU (tanh approximation) and SiLU ---------------------------------------------------------

const GELU = 'let u = 0.7978845608028654 * (v + 0.044715 * v * v * v); let t = tanh_safe(u);';

function pointwise(name: string, fwd: string, bwd: string): Routine<NoAttrs> {
  return {
    forward([input], _attrs, ctx) {
      const x = dense(input);
      const y = Tensor.empty(x.backend, x.shape, 'float32', name);
      elementwise(gpuOf(x), name, y.view(), [x.view()], `${name}_f(x0)`, [], fwd);
      ctx.save(x);
      x.dispose();
      return y;
    },
    backward(grad, ctx) {
      const [x] = ctx.saved as [Tensor];
      const g = dense(grad);
      const dx = Tensor.empty(x.backend, x.shape, 'float32', `${name}-backward`);
      elementwise(
        gpuOf(x),
        `${name}-bwd`,
        dx.view(),
        [x.view(), g.view()],
        `x1 * ${name}_d(x0)`,
        [],
        bwd,
      );
      g.dispose();
      return [dx];
    },
  };
}

const geluRoutine = pointwise(
  'gelu',
  `fn gelu_f(v: f32) -> f32 { ${GELU} return 0.5 * v * (1.0 + t); }`,
  `fn gelu_d(v: f32) -> f32 { ${GELU}
  return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * v * v); }`,
);

const siluRoutine = pointwise(
  'silu',
  'fn silu_f(v: f32) -> f32 { return v / (1.0 + exp_safe(-v)); }',
  'fn silu_d(v: f32) -> f32 { let s = 1.0 / (1.0 + exp_safe(-v)); return s * (1.0 + v * (1.0 - s)); }',
);

// ---- causal attention -----------------------------------------------------------------------------

const attentionRoutine = materializedAttentionRoutine({
  softmax(p, causal, scale) {
    const T = p.shape[p.rank - 2];
    const S = p.shape[p.rank - 1];
    const rows = S === 0 ? 0 : p.size / S;
    // Key j is visible to query i when j <= i (top-left aligned, as the composition's mask).
    rowKernel(
      gpuOf(p),
      'attn-softmax',
      rows,
      S,
      [p.view()],
      [0],
      `  let base = off0 + row * L;
  let n = select(L, min(L, (row % E(0)) + 1), E(1) != 0);
  let scale = Ef(2);
  var m = neg_inf();
  for (var j = lane; j < n; j += LANES) { m = max(m, ld0(base + j) * scale); }
  m = red_max(m, lane);
  var s = 0.0;
  for (var j = lane; j < n; j += LANES) { s += exp(ld0(base + j) * scale - m); }
  s = red_sum(s, lane);
  let inv = 1.0 / s;
  for (var j = lane; j < L; j += LANES) {
    st0(base + j, select(0.0, exp(ld0(base + j) * scale - m) * inv, j < n));
  }`,
      [T, causal ? 1 : 0, floatWord(scale)],
    );
  },
  softmaxBackward(ds, p, scale) {
    const S = ds.shape[ds.rank - 1];
    const rows = S === 0 ? 0 : ds.size / S;
    rowKernel(
      gpuOf(ds),
      'attn-softmax-bwd',
      rows,
      S,
      [ds.view(), p.view()],
      [0],
      `  let b0 = off0 + row * L;
  let b1 = off1 + row * L;
  var dot = 0.0;
  for (var j = lane; j < L; j += LANES) { dot += ld0(b0 + j) * ld1(b1 + j); }
  dot = red_sum(dot, lane);
  let scale = Ef(0);
  for (var j = lane; j < L; j += LANES) { st0(b0 + j, scale * ld1(b1 + j) * (ld0(b0 + j) - dot)); }`,
      [floatWord(scale)],
    );
  },
});

/** The fused WGSL routines, by composite op name (and `adamwStep`, the optimizer update). */
export const webGpuRoutines: RoutineTable = {
  softmax: softmaxRoutine(false),
  logSoftmax: softmaxRoutine(true),
  crossEntropy: crossEntropyRoutine,
  linearCrossEntropy: linearCrossEntropyRoutine,
  layerNorm: normRoutine(false),
  rmsNorm: normRoutine(true),
  gelu: geluRoutine,
  silu: siluRoutine,
  scaledDotProductAttention: attentionRoutine,
  adamwStep: adamwRoutine,
};

/**
 * Fused CUDA routines for the composite ops that dominate a training step: softmax and
 * log-softmax, per-token cross-entropy (and the vocabulary head fused with it, in chunks of rows
 * so the [N, V] logits never exist whole; the products on cuBLAS, the weight gradient
 * accumulated in place by the GEMM), layer / RMS normalization, GELU, SiLU, blockwise causal
 * attention (attention.ts) and the one-pass AdamW update. Each is checked by the same
 * conformance cases and finite-difference gradients as the compositions.
 */
import type { TensorView } from '../backend.js';
import { dense, normRoutineFrame } from '../fused-frames.js';
import type { AdamWRoutineAttrs } from '../ops/adamw.js';
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
import { attentionRoutine } from './attention.js';
import type { CudaBackend } from './backend.js';
import { dtypeCode, gemm } from './kernels.js';

const cudaOf = (t: Tensor) => t.backend as CudaBackend;

// ---- softmax / log-softmax along any axis -------------------------------------------------------

function softmaxRoutine(log: boolean): Routine<SoftmaxAttrs> {
  // SoftmaxParams: in0, in1, out, rows, L, inner, off0, off1, offOut, log
  const launch = (
    cuda: CudaBackend,
    kernel: string,
    shape: readonly number[],
    axis: number,
    v: [TensorView, TensorView | null, TensorView],
  ) => {
    const L = shape[axis]!;
    const inner = shapeSize(shape.slice(axis + 1));
    const rows = L === 0 ? 0 : shapeSize(shape) / L;
    cuda.launchRows(kernel, rows, L, (a) =>
      a
        .i(cuda.ptr(v[0]))
        .i(v[1] ? cuda.ptr(v[1]) : 0)
        .i(cuda.ptr(v[2]))
        .i(rows)
        .i(L)
        .i(inner)
        .i(v[0].offset)
        .i(v[1]?.offset ?? 0)
        .i(v[2].offset)
        .i(log ? 1 : 0),
    );
  };
  return {
    forward([input], { axis }: { axis: number }, ctx) {
      const x = dense(input!);
      const y = Tensor.empty(x.backend, x.shape, 'float32', log ? 'logSoftmax' : 'softmax');
      launch(cudaOf(x), 'lrw_softmax_fwd', x.shape, axis, [x.view(), null, y.view()]);
      ctx.save(y);
      x.dispose();
      return y;
    },
    backward(grad, ctx) {
      const [y] = ctx.saved as [Tensor];
      const { axis } = ctx.attrs;
      const g = dense(grad);
      const dx = Tensor.empty(y.backend, y.shape, 'float32', 'softmax-backward');
      launch(cudaOf(y), 'lrw_softmax_bwd', y.shape, axis, [y.view(), g.view(), dx.view()]);
      g.dispose();
      return [dx];
    },
  };
}

// ---- cross-entropy per token (and the fused vocabulary head) ------------------------------------

type CeAttrs = CrossEntropyAttrs;

interface CeViews {
  logits: TensorView;
  targets: TensorView;
  loss?: TensorView;
  lse: TensorView;
  mask?: TensorView;
  g?: TensorView;
  dlogits?: TensorView;
}

/** CeParams: logits, targets, loss, lse, mask, g, dlogits, err, rows, V, 7 offsets, ignoreIndex, hasMask, maskDtype. */
function ceLaunch(
  cuda: CudaBackend,
  kernel: string,
  rows: number,
  V: number,
  v: CeViews,
  ignoreIndex: number,
): void {
  const p = (t?: TensorView) => (t ? cuda.ptr(t) : 0);
  cuda.launchRows(kernel, rows, V, (a) =>
    a
      .i(p(v.logits))
      .i(p(v.targets))
      .i(p(v.loss))
      .i(p(v.lse))
      .i(p(v.mask))
      .i(p(v.g))
      .i(p(v.dlogits))
      .i(cuda.errorFlag)
      .i(rows)
      .i(V)
      .i(v.logits.offset)
      .i(v.targets.offset)
      .i(v.loss?.offset ?? 0)
      .i(v.lse.offset)
      .i(v.mask?.offset ?? 0)
      .i(v.g?.offset ?? 0)
      .i(v.dlogits?.offset ?? 0)
      .i(ignoreIndex | 0)
      .i(v.mask ? 1 : 0)
      .i(v.mask ? dtypeCode(v.mask.dtype) : 0),
  );
}

const crossEntropyRoutine: Routine<CeAttrs> = {
  forward(inputs, attrs, ctx) {
    const logits = dense(inputs[0]!);
    const targets = dense(inputs[1]!);
    const mask = attrs.hasMask ? dense(inputs[2]!) : undefined;
    const V = logits.shape[logits.rank - 1]!;
    const rows = targets.size;
    const loss = Tensor.empty(logits.backend, targets.shape, 'float32', 'crossEntropy');
    const lse = Tensor.empty(logits.backend, [rows], 'float32', 'crossEntropy-lse');
    if (V > 0) {
      ceLaunch(
        cudaOf(logits),
        'lrw_ce_fwd',
        rows,
        V,
        {
          logits: logits.view(),
          targets: targets.view(),
          loss: loss.view(),
          lse: lse.view(),
          mask: mask?.view(),
        },
        attrs.ignoreIndex,
      );
    }
    if (ctx.needsGrad[0]) ctx.save(logits, targets, lse, mask);
    for (const t of [logits, targets, lse, mask]) t?.dispose();
    return loss;
  },
  backward(grad, ctx) {
    const [logits, targets, lse, mask] = ctx.saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const attrs = ctx.attrs;
    const g = dense(grad);
    const V = logits.shape[logits.rank - 1]!;
    const dl = Tensor.empty(logits.backend, logits.shape, 'float32', 'crossEntropy-backward');
    ceLaunch(
      cudaOf(logits),
      'lrw_ce_bwd',
      targets.size,
      V,
      {
        logits: logits.view(),
        targets: targets.view(),
        lse: lse.view(),
        mask: mask?.view(),
        g: g.view(),
        dlogits: dl.view(),
      },
      attrs.ignoreIndex,
    );
    g.dispose();
    return attrs.hasMask ? [dl, null, null] : [dl, null];
  },
};

/** Row ranges of the fused head's chunks (`headChunkFloats` logits each at most). */
function headChunks(cuda: CudaBackend, N: number, V: number): [number, number][] {
  const size = Math.max(1, Math.floor(cuda.headChunkFloats / Math.max(V, 1)));
  const out: [number, number][] = [];
  for (let r = 0; r < N; r += size) out.push([r, Math.min(N, r + size)]);
  return out;
}

const shifted = (t: Tensor, r0: number): TensorView => ({ ...t.view(), offset: t.offset + r0 });
const rowsOf = (t: Tensor, r0: number, r1: number, C: number): TensorView => ({
  ...t.view(),
  shape: [r1 - r0, C],
  strides: [C, 1],
  offset: t.offset + r0 * C,
});

const linearCrossEntropyRoutine: Routine<CeAttrs> = {
  forward(inputs, attrs, ctx) {
    const [xIn, wIn, tIn] = inputs as [Tensor, Tensor, Tensor];
    const C = xIn.shape[xIn.rank - 1]!;
    const N = tIn.size;
    const xd = dense(xIn);
    const x = xd.reshape([N, C]);
    xd.dispose();
    const w = dense(wIn);
    const targets = dense(tIn);
    const mask = attrs.hasMask ? dense(inputs[3]!) : undefined;
    const V = w.shape[0]!;
    const cuda = cudaOf(x);
    const loss = Tensor.empty(x.backend, tIn.shape, 'float32', 'linearCrossEntropy');
    const lse = Tensor.empty(x.backend, [N], 'float32', 'linearCrossEntropy-lse');
    const wT = { ...w.view(), shape: [C, V], strides: [1, C] };
    for (const [r0, r1] of headChunks(cuda, N, V)) {
      const logits = Tensor.empty(x.backend, [r1 - r0, V], 'float32', 'linearCrossEntropy-logits');
      gemm(cuda, rowsOf(x, r0, r1, C), wT, logits.view());
      ceLaunch(
        cuda,
        'lrw_ce_fwd',
        r1 - r0,
        V,
        {
          logits: logits.view(),
          targets: shifted(targets, r0),
          loss: shifted(loss, r0),
          lse: shifted(lse, r0),
          mask: mask ? shifted(mask, r0) : undefined,
        },
        attrs.ignoreIndex,
      );
      logits.dispose();
    }
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
    const cuda = cudaOf(x);
    const g = dense(grad);
    const [N, C] = x.shape as [number, number];
    const V = w.shape[0]!;
    const wantX = ctx.needsGrad[0];
    const wantW = ctx.needsGrad[1];
    const dx = wantX ? Tensor.empty(x.backend, [N, C], 'float32', 'linearCrossEntropy-dx') : null;
    const dw = wantW ? Tensor.empty(x.backend, [V, C], 'float32', 'linearCrossEntropy-dw') : null;
    const wT = { ...w.view(), shape: [C, V], strides: [1, C] };
    headChunks(cuda, N, V).forEach(([r0, r1], chunk) => {
      const xc = rowsOf(x, r0, r1, C);
      const dl = Tensor.empty(x.backend, [r1 - r0, V], 'float32', 'linearCrossEntropy-dlogits');
      gemm(cuda, xc, wT, dl.view()); // logits, overwritten in place by their gradient
      ceLaunch(
        cuda,
        'lrw_ce_bwd',
        r1 - r0,
        V,
        {
          logits: dl.view(),
          targets: shifted(targets, r0),
          lse: shifted(lse, r0),
          mask: mask ? shifted(mask, r0) : undefined,
          g: shifted(g, r0),
          dlogits: dl.view(),
        },
        attrs.ignoreIndex,
      );
      if (dx) gemm(cuda, dl.view(), w.view(), rowsOf(dx, r0, r1, C));
      if (dw) {
        // dW (+)= dl^T x_chunk: the first chunk writes, the others accumulate (beta 1).
        const dlT = { ...dl.view(), shape: [V, r1 - r0], strides: [1, V] };
        gemm(cuda, dlT, xc, dw.view(), chunk > 0);
      }
      dl.dispose();
    });
    g.dispose();
    const dxShaped = dx ? dx.reshape(ctx.inputShapes[0]!) : null;
    dx?.dispose();
    const out: (Tensor | null)[] = [dxShaped, dw ?? (wantW ? w.zerosLike() : null), null];
    if (attrs.hasMask) out.push(null);
    return out;
  },
};

// ---- layer / RMS normalization ------------------------------------------------------------------

/** Rows summed per partial in the weight/bias gradient (stage 1 of the column sums). */
const NORM_CHUNK_ROWS = 64;

function normRoutine(rms: boolean): Routine<NormAttrs> {
  const name = rms ? 'rmsNorm' : 'layerNorm';
  // NormParams: x, y, stats, w, b, g, dx, rows, C, 7 offsets, hasW, hasB, rms, eps
  const pack =
    (
      cuda: CudaBackend,
      o: {
        x: Tensor;
        y?: Tensor;
        stats: Tensor;
        w?: Tensor;
        b?: Tensor;
        g?: Tensor;
        dx?: Tensor;
        rows: number;
        C: number;
        eps?: number;
      },
    ) =>
    (a: import('./params.js').Args) => {
      const p = (t?: Tensor) => (t ? cuda.ptr(t.view()) : 0);
      a.i(p(o.x)).i(p(o.y)).i(p(o.stats)).i(p(o.w)).i(p(o.b)).i(p(o.g)).i(p(o.dx)).i(o.rows).i(o.C);
      for (const t of [o.x, o.y, o.stats, o.w, o.b, o.g, o.dx]) a.i(t?.offset ?? 0);
      a.i(o.w ? 1 : 0)
        .i(o.b ? 1 : 0)
        .i(rms ? 1 : 0)
        .f(o.eps ?? 0);
    };
  return normRoutineFrame(name, {
    forward({ x, w, b, y, stats, rows, C, eps }) {
      const cuda = cudaOf(x);
      cuda.launchRows('lrw_norm_fwd', rows, C, pack(cuda, { x, y, stats, w, b, rows, C, eps }));
    },
    backward({ x, w, g, stats, rows, C, dx, dw, db }) {
      const cuda = cudaOf(x);
      if (dx) cuda.launchRows('lrw_norm_dx', rows, C, pack(cuda, { x, stats, w, g, dx, rows, C }));
      if ((dw || db) && rows > 0 && C > 0) {
        const chunks = Math.ceil(rows / NORM_CHUNK_ROWS);
        const partial = cuda.alloc(2 * chunks * C * 4);
        // NormGradParams: x, g, stats, partial, dw, db, rows, C, xOff, gOff, statsOff, chunkRows, chunks, hasDw, hasDb
        const gp = (a: import('./params.js').Args) =>
          a
            .i(cuda.ptr(x.view()))
            .i(cuda.ptr(g.view()))
            .i(cuda.ptr(stats.view()))
            .i(cuda.ptr(partial))
            .i(dw ? cuda.ptr(dw.view()) + dw.offset * 4 : 0)
            .i(db ? cuda.ptr(db.view()) + db.offset * 4 : 0)
            .i(rows)
            .i(C)
            .i(x.offset)
            .i(g.offset)
            .i(stats.offset)
            .i(NORM_CHUNK_ROWS)
            .i(chunks)
            .i(dw ? 1 : 0)
            .i(db ? 1 : 0);
        cuda.launch1d('lrw_norm_wgrad_partial', chunks * C, gp);
        cuda.launch('lrw_norm_wgrad_final', [Math.ceil(C / 256), 1, 1], 256, gp);
        cuda.free(partial);
      } else if (dw || db) {
        for (const t of [dw, db])
          if (t) cuda.run({ kernel: 'fill', inputs: [], output: t.view(), attrs: { value: 0 } });
      }
    },
  });
}

// ---- GELU (tanh approximation) and SiLU ---------------------------------------------------------

function pointwise(name: string, op: number): Routine<NoAttrs> {
  // PointwiseParams: x, g, y, n, xOff, gOff, yOff, op
  const launch = (cuda: CudaBackend, x: Tensor, g: Tensor | null, y: Tensor, o: number) =>
    cuda.launch1d('lrw_pointwise', x.size, (a) =>
      a
        .i(cuda.ptr(x.view()))
        .i(g ? cuda.ptr(g.view()) : 0)
        .i(cuda.ptr(y.view()))
        .i(x.size)
        .i(x.offset)
        .i(g?.offset ?? 0)
        .i(y.offset)
        .i(o),
    );
  return {
    forward([input], _attrs, ctx) {
      const x = dense(input!);
      const y = Tensor.empty(x.backend, x.shape, 'float32', name);
      launch(cudaOf(x), x, null, y, op);
      ctx.save(x);
      x.dispose();
      return y;
    },
    backward(grad, ctx) {
      const [x] = ctx.saved as [Tensor];
      const g = dense(grad);
      const dx = Tensor.empty(x.backend, x.shape, 'float32', `${name}-backward`);
      launch(cudaOf(x), x, g, dx, op + 1);
      g.dispose();
      return [dx];
    },
  };
}

// ---- AdamW --------------------------------------------------------------------------------------

/** Inputs [param, grad, m, v] (contiguous float32, one shape); updates param, m, v in place. */
export const adamwRoutine: Routine<AdamWRoutineAttrs> & { path: 'routine' } = {
  path: 'routine',
  forward(inputs: readonly Tensor[], attrs: AdamWRoutineAttrs): Tensor {
    const [param, grad, m, v] = inputs as [Tensor, Tensor, Tensor, Tensor];
    const cuda = cudaOf(param);
    // AdamWParams: param, grad, m, v, n, 4 offsets, decay, beta1, beta2, 1-beta1, 1-beta2, stepSize, invBc2Sqrt, eps
    cuda.launch1d('lrw_adamw', param.size, (a) => {
      for (const t of [param, grad, m, v]) a.i(cuda.ptr(t.view()));
      a.i(param.size);
      for (const t of [param, grad, m, v]) a.i(t.offset);
      a.f(attrs.decay)
        .f(attrs.beta1)
        .f(attrs.beta2)
        .f(attrs.oneMinusBeta1)
        .f(attrs.oneMinusBeta2)
        .f(attrs.stepSize)
        .f(attrs.invBc2Sqrt)
        .f(attrs.eps);
    });
    return param.alias();
  },
};

/** The fused CUDA routines, by composite op name (and `adamwStep`, the optimizer update). */
export const cudaRoutines: RoutineTable = {
  softmax: softmaxRoutine(false),
  logSoftmax: softmaxRoutine(true),
  crossEntropy: crossEntropyRoutine,
  linearCrossEntropy: linearCrossEntropyRoutine,
  layerNorm: normRoutine(false),
  rmsNorm: normRoutine(true),
  gelu: pointwise('gelu', 0),
  silu: pointwise('silu', 2),
  scaledDotProductAttention: attentionRoutine,
  adamwStep: adamwRoutine,
};

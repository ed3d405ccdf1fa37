/**
 * Reductions. Kernels reduce the trailing elements of a contiguous `[outer, inner]` block, so the
 * op permutes the reduced axes to the end (a copy only when they are not already trailing).
 */
import type { ReduceKernel } from '../backend.js';
import type { DType } from '../dtype.js';
import { noGrad, tidy } from '../engine.js';
import { defineOp } from '../op-table.js';
import type { AxesAttrs } from '../routine.js';
import { normalizeAxes, normalizeAxis, type Shape, shapeSize } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './elementwise.js';

export { SUM_TO_MATMUL_MIN_ELEMENTS, SUM_TO_MATMUL_MIN_ROWS, sumTo } from './sum-to.js';

type ReduceAttrs = AxesAttrs;

function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function outShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

function runReduce(
  kernel: ReduceKernel,
  x: Tensor,
  axes: readonly number[],
  keepDims: boolean,
  dtype: DType,
): Tensor {
  const rank = x.rank;
  const kept = Array.from({ length: rank }, (_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const inner = shapeSize(axes.map((a) => x.shape[a]));
  const out = x.newEmpty(outShape(x.shape, axes, keepDims), dtype, kernel);
  const trailing = perm.every((p, i) => p === i);
  const src = trailing && x.isContiguous ? x : x.permute(perm).contiguous();
  try {
    if (inner === 0) {
      x.backend.run({
        kernel: 'fill',
        inputs: [],
        output: out.view(),
        attrs: { value: kernel === 'sum' ? 0 : Number.NaN },
      });
    } else {
      x.backend.run({ kernel, inputs: [src.view()], output: out.view(), attrs: { inner } });
    }
  } finally {
    if (src !== x) src.dispose();
  }
  return out;
}

const sumOp = defineOp<ReduceAttrs>({
  name: 'sum',
  kind: 'primitive',
  doc: 'sum over axes (float64 accumulation on CPU)',
  differentiable: true,
  tolerance: { rtol: 1e-5, atol: 1e-5 },
  forward: ([x], { axes, keepDims }) => runReduce('sum', x, axes, keepDims, x.dtype),
  backward: (g, ctx) => {
    const shape = ctx.inputShapes[0];
    return [g.reshape(keptShape(shape, ctx.attrs.axes)).expand(shape)];
  },
});

function extremumOp(name: 'max' | 'min') {
  return defineOp<ReduceAttrs>({
    name,
    kind: 'primitive',
    doc: `${name} over axes; the gradient is shared evenly among tied extrema`,
    differentiable: true,
    tolerance: { rtol: 0, atol: 0 },
    forward: ([x], { axes, keepDims }, ctx) => {
      const out = runReduce(name, x, axes, keepDims, x.dtype);
      ctx.save(x, out);
      return out;
    },
    backward: (g, ctx) => {
      const [x, out] = ctx.saved;
      const kept = keptShape(x.shape, ctx.attrs.axes);
      const hit = x.eq(out.reshape(kept));
      const count = hit.sum(ctx.attrs.axes, true);
      return [hit.mul(g.reshape(kept).div(count))];
    },
  });
}
const maxOp = extremumOp('max');
const minOp = extremumOp('min');

const argmaxOp = defineOp<ReduceAttrs>({
  name: 'argmax',
  kind: 'primitive',
  doc: 'index of the first maximum along one axis (int32)',
  differentiable: false,
  tolerance: { rtol: 0, atol: 0 },
  forward: ([x], { axes, keepDims }) => runReduce('argmax', x, axes, keepDims, 'int32'),
});

type Axes = number | readonly number[] | undefined;

/** Sum over `axes` (default all). */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return sumOp([x], { axes: normalizeAxes(axes, x.rank, 'sum'), keepDims });
}
/** Maximum over `axes` (default all). */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return maxOp([x], { axes: normalizeAxes(axes, x.rank, 'max'), keepDims });
}
/** Minimum over `axes` (default all). */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return minOp([x], { axes: normalizeAxes(axes, x.rank, 'min'), keepDims });
}
/** Index of the maximum along `axis` (int32, first on ties). */
export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  return argmaxOp([x], { axes: [normalizeAxis(axis, x.rank, 'argmax')], keepDims });
}
/** Mean over `axes` (default all). */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const list = normalizeAxes(axes, x.rank, 'mean');
  const n = shapeSize(list.map((a) => x.shape[a]));
  return tidy(() => sum(x.dtype === 'int32' ? x.cast('float32') : x, list, keepDims).mul(1 / n));
}

const logsumexpOp = defineOp<ReduceAttrs>({
  name: 'logsumexp',
  kind: 'composite',
  doc: 'log(sum(exp(x))) over axes, shifted by the max for stability',
  differentiable: true,
  tolerance: { rtol: 1e-5, atol: 1e-5 },
  forward: ([x], { axes, keepDims }) =>
    tidy(() => {
      // The shift is a constant for autograd; rows that are all -inf shift by 0 (giving -inf).
      const m0 = noGrad(() => x.detach().max(axes, true));
      const m = where(m0.eq(Number.NEGATIVE_INFINITY), 0, m0);
      const r = x.sub(m).exp().sum(axes, true).log().add(m);
      return keepDims ? r : r.reshape(outShape(x.shape, axes, false));
    }),
});

/** log(sum(exp(x))) over `axes` (default all), computed stably. */
export function logsumexp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return logsumexpOp([x], { axes: normalizeAxes(axes, x.rank, 'logsumexp'), keepDims });
}

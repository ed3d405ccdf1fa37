/**
 * Reductions. Kernels reduce the trailing elements of a contiguous `[outer, inner]` block, so the
 * op permutes the reduced axes to the end (a copy only when they are not already trailing).
 */
import type { ReduceKernel } from '../backend.js';
import type { DType } from '../dtype.js';
import { noGrad, tidy } from '../engine.js';
import { defineOp } from '../op-table.js';
import {
  formatShape,
  normalizeAxes,
  normalizeAxis,
  type Shape,
  shapeSize,
  shapesEqual,
} from '../shape.js';
import { Tensor } from '../tensor.js';
import { ones } from './creation.js';
import { where } from './elementwise.js';

interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
}

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
  const out = Tensor.empty(x.backend, outShape(x.shape, axes, keepDims), dtype, kernel);
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

/** sumTo reduces leading axes with a product from this many summed rows and elements. */
export const SUM_TO_MATMUL_MIN_ROWS = 64;
export const SUM_TO_MATMUL_MIN_ELEMENTS = 8192;

/**
 * Sums `g` down to `shape` (the inverse of broadcasting `shape` up to `g.shape`). Large float32
 * sums over leading axes only run as a ones-vector product (float32 accumulation on the
 * backend's matmul, as PyTorch's bias gradients); the rest as `sum` (float64 on the CPU).
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0)
    throw new Error(`sumTo: cannot reduce ${formatShape(g.shape)} to ${formatShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++)
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const rows = shapeSize(g.shape.slice(0, axes.length));
  if (
    g.dtype === 'float32' &&
    axes.every((a, i) => a === i) &&
    rows >= SUM_TO_MATMUL_MIN_ROWS &&
    g.size >= SUM_TO_MATMUL_MIN_ELEMENTS
  ) {
    // Leading axes only (a bias gradient: [N, out] -> [out]): one [1, N] x [N, out] product
    // instead of transposing g so that the summed axis is the trailing one (a strided copy).
    return tidy(() =>
      ones([1, rows], { backend: g.backend.name })
        .matmul(g.reshape([rows, g.size / rows]))
        .reshape(shape),
    );
  }
  return tidy(() => g.sum(axes, true).reshape(shape));
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

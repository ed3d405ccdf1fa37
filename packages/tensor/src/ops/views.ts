/**
 * Views share storage and change only shape/strides/offset: reshape (of contiguous data),
 * permute, slice, expand. contiguous/clone copy with the strided `copy` kernel; concat copies each
 * input into a slice of its output.
 */
import type { TensorView } from '../backend.js';
import { tidy } from '../engine.js';
import { defineOp } from '../op-table.js';
import {
  broadcastStrides,
  contiguousStrides,
  formatShape,
  normalizeAxis,
  resolveReshape,
  type Shape,
  shapesEqual,
  viewStrides,
} from '../shape.js';
import type { Tensor } from '../tensor.js';
import { inplaceBinary } from './inplace.js';
import { sumTo } from './sum-to.js';

const EXACT = { rtol: 0, atol: 0 };

function copyInto(src: Tensor, dst: TensorView, backend: Tensor['backend']): void {
  backend.run({ kernel: 'copy', inputs: [src.view()], output: dst, attrs: {} });
}

function fresh(x: Tensor, op: string): Tensor {
  const out = x.newEmpty(x.shape, x.dtype, op);
  copyInto(x, out.view(), x.backend);
  return out;
}

const cloneOp = defineOp<Record<string, never>>({
  name: 'clone',
  kind: 'primitive',
  doc: 'a contiguous copy',
  differentiable: true,
  tolerance: EXACT,
  forward: ([x]) => fresh(x, 'clone'),
  backward: (g) => [g],
});

const contiguousOp = defineOp<Record<string, never>>({
  name: 'contiguous',
  kind: 'primitive',
  doc: 'row-major layout (a view when already contiguous, else a copy)',
  differentiable: true,
  tolerance: EXACT,
  forward: ([x]) =>
    x.isContiguous ? x.viewAs(x.shape, x.strides, x.offset, 'contiguous') : fresh(x, 'contiguous'),
  backward: (g) => [g],
});

const reshapeOp = defineOp<{ shape: number[] }>({
  name: 'reshape',
  kind: 'primitive',
  doc: 'new shape, same elements (a view where the strides allow, else a copy)',
  differentiable: true,
  tolerance: EXACT,
  forward: ([x], { shape }) => {
    if (x.isContiguous) return x.viewAs(shape, contiguousStrides(shape), x.offset, 'reshape');
    // Split or merged axes of a strided view (attention heads of a fused qkv) stay views.
    const st = viewStrides(x.shape, x.strides, shape);
    if (st) return x.viewAs(shape, st, x.offset, 'reshape');
    const src = fresh(x, 'reshape');
    return src.viewAs(shape, contiguousStrides(shape), src.offset, 'reshape');
  },
  backward: (g, ctx) => [g.reshape(ctx.inputShapes[0])],
});

const permuteOp = defineOp<{ perm: number[] }>({
  name: 'permute',
  kind: 'primitive',
  doc: 'reorders axes (a view)',
  differentiable: true,
  tolerance: EXACT,
  forward: ([x], { perm }) =>
    x.viewAs(
      perm.map((p) => x.shape[p]),
      perm.map((p) => x.strides[p]),
      x.offset,
      'permute',
    ),
  backward: (g, ctx) => {
    const inv = new Array<number>(ctx.attrs.perm.length);
    ctx.attrs.perm.forEach((p, i) => {
      inv[p] = i;
    });
    return [g.permute(inv)];
  },
});

interface SliceAttrs {
  axis: number;
  start: number;
  end: number;
}

function sliceMeta(shape: Shape, strides: readonly number[], offset: number, a: SliceAttrs) {
  const s = shape.slice();
  s[a.axis] = a.end - a.start;
  return { shape: s, strides, offset: offset + a.start * strides[a.axis] };
}

const sliceOp = defineOp<SliceAttrs>({
  name: 'slice',
  kind: 'primitive',
  doc: 'elements start..end-1 along one axis (a view)',
  differentiable: true,
  tolerance: EXACT,
  forward: ([x], attrs) => {
    const m = sliceMeta(x.shape, x.strides, x.offset, attrs);
    return x.viewAs(m.shape, m.strides, m.offset, 'slice');
  },
  backward: (g, ctx) => {
    const z = g.newFull(ctx.inputShapes[0], 0, 'float32', 'zeros');
    const m = sliceMeta(z.shape, z.strides, z.offset, ctx.attrs);
    copyInto(g, { ...z.view(), ...m }, g.backend);
    return [z];
  },
  // several slices of one tensor (q, k, v of a fused projection): one buffer, no zero-fills
  backwardInto: (g, ctx, acc) => {
    const m = sliceMeta(acc.shape, acc.strides, acc.offset, ctx.attrs);
    const region = acc.viewAs(m.shape, m.strides, m.offset, 'slice');
    try {
      inplaceBinary(region, 'add', g, 1);
    } finally {
      region.dispose();
    }
  },
});

const expandOp = defineOp<{ shape: number[] }>({
  name: 'expand',
  kind: 'primitive',
  doc: 'broadcasts size-1 axes (and new leading axes) to a larger shape (a view)',
  differentiable: true,
  tolerance: EXACT,
  forward: ([x], { shape }) =>
    x.viewAs(shape, broadcastStrides(x.shape, x.strides, shape, 'expand'), x.offset, 'expand'),
  backward: (g, ctx) => [sumTo(g, ctx.inputShapes[0])],
});

const concatOp = defineOp<{ axis: number }>({
  name: 'concat',
  kind: 'primitive',
  doc: 'joins tensors along an existing axis',
  differentiable: true,
  tolerance: EXACT,
  forward: (xs, { axis }) => {
    const first = xs[0];
    const shape = first.shape.slice();
    shape[axis] = 0;
    for (const x of xs) {
      if (
        x.rank !== first.rank ||
        x.dtype !== first.dtype ||
        x.shape.some((d, i) => i !== axis && d !== first.shape[i])
      ) {
        throw new RangeError(
          `concat: ${formatShape(x.shape)} (${x.dtype}) does not match ${formatShape(first.shape)} (${first.dtype}) outside axis ${axis}`,
        );
      }
      shape[axis] += x.shape[axis];
    }
    const out = first.newEmpty(shape, first.dtype, 'concat');
    let start = 0;
    for (const x of xs) {
      const m = sliceMeta(out.shape, out.strides, 0, { axis, start, end: start + x.shape[axis] });
      copyInto(x, { ...out.view(), ...m }, out.backend);
      start += x.shape[axis];
    }
    return out;
  },
  backward: (g, ctx) => {
    let start = 0;
    return ctx.inputShapes.map((s) => {
      const part = g.slice(ctx.attrs.axis, start, start + s[ctx.attrs.axis]);
      start += s[ctx.attrs.axis];
      return part;
    });
  },
});

/**
 * Same elements in a new shape (one axis may be -1). A view when `x` is contiguous or its
 * strides allow one (as torch.reshape); otherwise a contiguous copy.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return reshapeOp([x], { shape: resolveReshape(x.size, shape, 'reshape') });
}
/** Reshape to one axis. */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.size]);
}
/** Reorders axes: `perm[i]` is the input axis that becomes output axis i. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => normalizeAxis(a, x.rank, 'permute'));
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new RangeError(
      `permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`,
    );
  }
  return permuteOp([x], { perm: p });
}
/** Swaps two axes (default the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  const i = normalizeAxis(a, x.rank, 'transpose');
  const j = normalizeAxis(b, x.rank, 'transpose');
  perm[i] = j;
  perm[j] = i;
  return permuteOp([x], { perm });
}
/** Elements start..end-1 along `axis` (negative indices count from the end). A view. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'slice');
  const n = x.shape[ax];
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : end;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s > e) {
    throw new RangeError(
      `slice: range ${start}..${end} is outside axis ${ax} of size ${n} (${formatShape(x.shape)})`,
    );
  }
  return sliceOp([x], { axis: ax, start: s, end: e });
}
/** Broadcasts to `shape` without copying (-1 keeps an axis). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  const target = shape.map((d, i) => (d === -1 ? x.shape[i - lead] : d));
  if (shapesEqual(target, x.shape)) return reshapeOp([x], { shape: target });
  return expandOp([x], { shape: target });
}
/** Removes a size-1 axis (or all of them). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const ax = normalizeAxis(axis, x.rank, 'squeeze');
  if (x.shape[ax] !== 1)
    throw new RangeError(
      `squeeze: axis ${ax} of ${formatShape(x.shape)} has size ${x.shape[ax]}, not 1`,
    );
  return reshape(
    x,
    x.shape.filter((_, i) => i !== ax),
  );
}
/** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normalizeAxis(axis, x.rank + 1, 'unsqueeze');
  const s = x.shape.slice();
  s.splice(ax, 0, 1);
  return reshape(x, s);
}
/** Row-major layout: a view when already contiguous, otherwise a copy. */
export function contiguous(x: Tensor): Tensor {
  return contiguousOp([x], {});
}
/** A contiguous copy (gradients flow through). */
export function clone(x: Tensor): Tensor {
  return cloneOp([x], {});
}
/** Joins `xs` along `axis`. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new RangeError('concat: needs at least one tensor');
  return concatOp(xs, { axis: normalizeAxis(axis, xs[0].rank, 'concat') });
}
/**
 * Splits along `axis` into `sections` equal parts (a number) or parts of the given sizes.
 * The parts are views.
 */
export function split(x: Tensor, sections: number | readonly number[], axis = 0): Tensor[] {
  const ax = normalizeAxis(axis, x.rank, 'split');
  const n = x.shape[ax];
  let sizes: number[];
  if (typeof sections === 'number') {
    if (!Number.isInteger(sections) || sections <= 0 || n % sections !== 0) {
      throw new RangeError(
        `split: axis ${ax} of size ${n} does not split into ${sections} equal parts; pass sizes instead`,
      );
    }
    sizes = new Array(sections).fill(n / sections);
  } else sizes = sections.slice();
  if (sizes.reduce((a, b) => a + b, 0) !== n) {
    throw new RangeError(
      `split: sizes ${JSON.stringify(sizes)} do not add up to ${n} (axis ${ax} of ${formatShape(x.shape)})`,
    );
  }
  return tidy(() => {
    let start = 0;
    return sizes.map((s) => {
      const part = slice(x, ax, start, start + s);
      start += s;
      return part;
    });
  });
}

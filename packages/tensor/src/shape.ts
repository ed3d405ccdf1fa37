/** Shapes and strides: pure functions on number arrays. Strides and offsets count elements. */

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** True when `strides` lay `shape` out row-major without gaps (size-1 dims are ignored). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    if (strides[i] !== s) return false;
    s *= shape[i];
  }
  return true;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Validates a user-given shape: non-negative integers. */
export function checkShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(
      `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return shape.slice();
}

/** Normalizes a possibly negative axis against `rank`. */
export function normalizeAxis(axis: number, rank: number, where: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new RangeError(
      `${where}: axis ${axis} is out of range for a tensor of rank ${rank}; use -${rank}..${rank - 1}`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes and sorts a list of axes (undefined means every axis); rejects duplicates. */
export function normalizeAxes(
  axes: number | readonly number[] | undefined,
  rank: number,
  where: string,
): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normalizeAxis(a, rank, where));
  const sorted = [...new Set(list)].sort((a, b) => a - b);
  if (sorted.length !== list.length)
    throw new RangeError(`${where}: duplicate axes ${JSON.stringify(axes)}`);
  return sorted;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape, where: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${where}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast ` +
          `(axis ${i} has ${da} vs ${db}); reshape or expand one operand`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that view (shape, strides) as `target` under broadcasting: new leading axes and
 * expanded size-1 axes get stride 0, so no data is copied.
 */
export function broadcastStrides(
  shape: Shape,
  strides: readonly number[],
  target: Shape,
  where: string,
): number[] {
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  if (lead < 0) {
    throw new RangeError(
      `${where}: cannot broadcast ${formatShape(shape)} to lower-rank ${formatShape(target)}`,
    );
  }
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === target[lead + i]) out[lead + i] = shape[i] === 1 ? 0 : strides[i];
    else if (shape[i] === 1) out[lead + i] = 0;
    else {
      throw new RangeError(
        `${where}: cannot broadcast ${formatShape(shape)} to ${formatShape(target)} ` +
          `(axis ${i} has ${shape[i]}, target ${target[lead + i]})`,
      );
    }
  }
  return out;
}

/** Resolves one -1 in a reshape target against `size`. */
export function resolveReshape(size: number, shape: readonly number[], where: string): number[] {
  const out = shape.slice();
  const neg = out.indexOf(-1);
  if (out.some((d, i) => !Number.isInteger(d) || (d < 0 && !(d === -1 && i === neg)))) {
    throw new TypeError(`${where}: invalid target shape ${JSON.stringify(shape)}`);
  }
  if (neg >= 0) {
    const rest = shapeSize(out.filter((_, i) => i !== neg));
    if (rest === 0 || size % rest !== 0) {
      throw new RangeError(
        `${where}: cannot infer -1 in ${formatShape(shape)} for ${size} elements`,
      );
    }
    out[neg] = size / rest;
  }
  if (shapeSize(out) !== size) {
    throw new RangeError(
      `${where}: cannot reshape ${size} elements into ${formatShape(shape)} (${shapeSize(out)} elements)`,
    );
  }
  return out;
}

/**
 * Strides that read a tensor of `shape`/`strides` as `newShape` (same element count) without
 * copying, or undefined when no such strides exist (PyTorch's computeStride: each run of axes
 * that is contiguous in the old layout must split or merge into whole new axes).
 */
export function viewStrides(
  shape: Shape,
  strides: readonly number[],
  newShape: Shape,
): number[] | undefined {
  const out = new Array<number>(newShape.length).fill(0);
  if (shapeSize(shape) === 0 || shape.length === 0) {
    if (shapeSize(newShape) !== shapeSize(shape)) return undefined;
    return contiguousStrides(newShape);
  }
  let viewD = newShape.length - 1;
  let chunkBase = strides[strides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d]!;
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return undefined;
      if (d > 0) {
        chunkBase = strides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : undefined;
}

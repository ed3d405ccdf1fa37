/** Summing a broadcast gradient back to an input's shape (every broadcasting op's backward). */
import { tidy } from '../engine.js';
import { formatShape, type Shape, shapeSize, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';

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
      g
        .newFull([1, rows], 1, 'float32', 'ones')
        .matmul(g.reshape([rows, g.size / rows]))
        .reshape(shape),
    );
  }
  return tidy(() => g.sum(axes, true).reshape(shape));
}

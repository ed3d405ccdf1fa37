/** Batched matmul with broadcasting batch axes; transposed operands are stride views (no copy). */
import { UnsupportedOpError } from '../errors.js';
import { defineOp } from '../op-table.js';
import { broadcastShapes, broadcastStrides, formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sumTo } from './sum-to.js';

/**
 * Whether `t`'s last two axes are a transposed contiguous matrix (a `w.mT` view of a [N, K]
 * weight): column-major, both extents > 1.
 */
function transposedLayout(t: Tensor): boolean {
  const r = t.rank;
  const [R, S] = t.shape.slice(r - 2) as [number, number];
  return R > 1 && S > 1 && t.strides[r - 2] === 1 && t.strides[r - 1] === R;
}

const swapLast = (shape: readonly number[]): number[] => [
  ...shape.slice(0, -2),
  shape.at(-1)!,
  shape.at(-2)!,
];

/** Per recorded product: whether a and b were transposed views (read by the gradient rule). */
const layouts = new WeakMap<object, [boolean, boolean]>();

const matmulOp = defineOp<Record<string, never>>({
  name: 'matmul',
  kind: 'primitive',
  doc: '[..., M, K] x [..., K, N] -> [..., M, N], batch axes broadcast',
  differentiable: true,
  tolerance: { rtol: 1e-5, atol: 1e-5 },
  forward: ([a, b], _attrs, ctx) => {
    const ra = a.rank;
    const rb = b.rank;
    const [M, K] = a.shape.slice(ra - 2);
    const [K2, N] = b.shape.slice(rb - 2);
    if (K !== K2) {
      throw new RangeError(
        `matmul: inner dimensions differ: ${formatShape(a.shape)} x ${formatShape(b.shape)} (${K} vs ${K2}); transpose one operand (t.mT)`,
      );
    }
    const batch = broadcastShapes(
      a.shape.slice(0, ra - 2),
      b.shape.slice(0, rb - 2),
      'matmul (batch axes)',
    );
    const aShape = [...batch, M, K];
    const bShape = [...batch, K, N];
    const out = a.newEmpty([...batch, M, N], 'float32', 'matmul');
    a.backend.run({
      kernel: 'matmul',
      inputs: [
        {
          ...a.view(),
          shape: aShape,
          strides: broadcastStrides(a.shape, a.strides, aShape, 'matmul'),
        },
        {
          ...b.view(),
          shape: bShape,
          strides: broadcastStrides(b.shape, b.strides, bShape, 'matmul'),
        },
      ],
      output: out.view(),
      attrs: {},
    });
    // dA = g B^T needs B; dB = A^T g needs A: keep only what a wanted gradient reads.
    ctx.save(ctx.needsGrad[1] ? a : undefined, ctx.needsGrad[0] ? b : undefined);
    if (ctx.recording) layouts.set(ctx, [transposedLayout(a), transposedLayout(b)]);
    return out;
  },
  backward: (g, ctx) => {
    const [a, b] = ctx.saved;
    // An operand read through a transposed view (`x.matmul(w.mT)`, w [N, K] contiguous) gets its
    // gradient in the same layout, (B g^T)^T or (g^T A)^T: the transpose's own backward then
    // hands the weight a contiguous gradient instead of a strided one to copy.
    const [ia, ib] = ctx.inputShapes as [readonly number[], readonly number[]];
    const [aT, bT] = layouts.get(ctx) ?? [false, false];
    return [
      ctx.needsGrad[0]
        ? aT
          ? sumTo(b.matmul(g.mT), swapLast(ia)).mT
          : sumTo(g.matmul(b.mT), ia)
        : null,
      ctx.needsGrad[1]
        ? bT
          ? sumTo(g.mT.matmul(a), swapLast(ib)).mT
          : sumTo(a.mT.matmul(g), ib)
        : null,
    ];
  },
});

/** Matrix product of the last two axes, batched over (broadcast) leading axes. Both ranks >= 2. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2) {
    throw new RangeError(
      `matmul: operands need rank >= 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}; unsqueeze a vector to [1, n] or [n, 1]`,
    );
  }
  for (const t of [a, b]) {
    if (t.dtype !== 'float32')
      throw new UnsupportedOpError('matmul', t.dtype, t.backend.name, 'cast to float32');
  }
  return matmulOp([a, b], {});
}

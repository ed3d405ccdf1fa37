/**
 * The kernels that initialize a fresh tensor (fill, arange, random), shared by the creation
 * functions (creation.ts) and by ops that need a constant, a range or a mask on the backend of
 * their input (`arangeLike`, `uniformLike`).
 */
import type { RandomAttrs } from '../philox.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Sets every element of the fresh contiguous tensor `t` to `value`; returns `t`. */
export function fillTensor(t: Tensor, value: number): Tensor {
  t.backend.run({ kernel: 'fill', inputs: [], output: t.view(), attrs: { value } });
  return t;
}

/** t[i] = start + i * step on the fresh contiguous tensor `t`; returns `t`. */
export function arangeInto(t: Tensor, start: number, step: number): Tensor {
  t.backend.run({ kernel: 'arange', inputs: [], output: t.view(), attrs: { start, step } });
  return t;
}

/** The Philox stream `attrs` into the fresh contiguous float32 tensor `t`; returns `t`. */
export function randomInto(t: Tensor, attrs: RandomAttrs): Tensor {
  t.backend.run({ kernel: 'random', inputs: [], output: t.view(), attrs });
  return t;
}

/** int32 0..n-1 on `like`'s backend (`arange(n)` there). */
export function arangeLike(like: Tensor, n: number): Tensor {
  return arangeInto(like.newEmpty([n], 'int32', 'arange'), 0, 1);
}

/** Uniform [0, 1) samples of the stream (seed, offset) on `like`'s backend. */
export function uniformLike(like: Tensor, shape: Shape, seed: number, offset: number): Tensor {
  const t = like.newEmpty(shape, 'float32', 'uniform');
  return randomInto(t, { seed, offset, dist: 'uniform', a: 0, b: 1 });
}

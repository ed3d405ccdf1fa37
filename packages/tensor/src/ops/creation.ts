/** Creating tensors: from data, constants, ranges, and the seeded Philox streams. */
import type { Backend } from '../backend.js';
import { floatToBfloat16Bits, floatToFloat16Bits } from '../cpu/half-precision.js';
import { checkDType, type DType, isFloatDType } from '../dtype.js';
import { noGrad } from '../engine.js';
import { UnsupportedOpError } from '../errors.js';
import { defineOp } from '../op-table.js';
import { Generator, philoxCounters, type RandomAttrs } from '../philox.js';
import { getBackend } from '../registry.js';
import { checkShape, formatShape, type Shape, shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** Backend name (default: the current backend). */
  backend?: string;
}

/** Nested arrays of numbers, or a flat typed/plain array with an explicit `shape`. */
export type TensorData =
  | number
  | readonly TensorData[]
  | Float32Array
  | Int32Array
  | Float64Array
  | Uint16Array;

/**
 * Host bytes of `dtype` for `values`. For float16/bfloat16 a Uint16Array is taken as raw bits
 * (as stored in safetensors); numbers are rounded to nearest even.
 */
function hostArray(values: ArrayLike<number>, dtype: DType): ArrayBufferView {
  if (dtype === 'int32') return Int32Array.from(values);
  if (dtype === 'float32') return Float32Array.from(values);
  if (values instanceof Uint16Array) return values;
  const encode = dtype === 'float16' ? floatToFloat16Bits : floatToBfloat16Bits;
  return Uint16Array.from(values, encode);
}

function finish(t: Tensor, options: CreateOptions | undefined): Tensor {
  if (options?.requiresGrad) t.requiresGrad = true;
  return t;
}

function checkComputeDType(dtype: DType, backend: Backend, where: string): void {
  if (dtype !== 'float32' && dtype !== 'int32' && !backend.supports('copy', dtype)) {
    throw new UnsupportedOpError(where, dtype, backend.name);
  }
}

function inferShape(data: TensorData, where: string): number[] {
  const shape: number[] = [];
  let cur: TensorData = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  if (ArrayBuffer.isView(cur)) shape.push((cur as Float32Array).length);
  else if (typeof cur !== 'number' && !Array.isArray(cur)) {
    throw new TypeError(
      `${where}: data must be numbers, nested arrays or typed arrays, got ${typeof cur}`,
    );
  }
  return shape;
}

function flattenInto(
  data: TensorData,
  out: number[],
  shape: readonly number[],
  axis: number,
  where: string,
): void {
  if (axis === shape.length) {
    if (typeof data !== 'number')
      throw new TypeError(`${where}: ragged nested array (expected a number at depth ${axis})`);
    out.push(data);
    return;
  }
  const arr = data as ArrayLike<TensorData>;
  if ((!Array.isArray(arr) && !ArrayBuffer.isView(arr)) || arr.length !== shape[axis]) {
    throw new TypeError(
      `${where}: ragged nested array: expected length ${shape[axis]} at depth ${axis}, shape ${formatShape(shape)}`,
    );
  }
  for (let i = 0; i < arr.length; i++) flattenInto(arr[i], out, shape, axis + 1, where);
}

/**
 * A tensor from data: `tensor([[1, 2], [3, 4]])`, or `tensor(float32Array, { shape: [2, 2] })`.
 * Typed arrays are copied. dtype defaults to int32 for an Int32Array, else float32. float16 and
 * bfloat16 are storage dtypes: create them from numbers or raw bits (a Uint16Array), then
 * `cast('float32')` to compute or read.
 */
export function tensor(
  data: TensorData,
  options: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  const where = 'tensor';
  const backend = getBackend(options.backend);
  const dtype = options.dtype
    ? checkDType(options.dtype, where)
    : data instanceof Int32Array
      ? 'int32'
      : 'float32';
  checkComputeDType(dtype, backend, where);
  let flat: ArrayLike<number>;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as Float32Array;
    shape = options.shape ? checkShape(options.shape, where) : [flat.length];
  } else {
    shape = inferShape(data, where);
    const list: number[] = [];
    flattenInto(data, list, shape, 0, where);
    flat = list;
    if (options.shape) {
      const s = checkShape(options.shape, where);
      if (shapeSize(s) !== list.length) {
        throw new RangeError(`${where}: ${list.length} values do not fill shape ${formatShape(s)}`);
      }
      shape = s;
    }
  }
  if (shapeSize(shape) !== flat.length) {
    throw new RangeError(`${where}: ${flat.length} values do not fill shape ${formatShape(shape)}`);
  }
  const t = Tensor.empty(backend, shape, dtype, 'tensor');
  backend.write(t.storage.buf, hostArray(flat, dtype));
  return finish(t, options);
}

function filled(
  shape: Shape,
  value: number,
  options: CreateOptions | undefined,
  op: string,
): Tensor {
  const backend = getBackend(options?.backend);
  const dtype = options?.dtype ? checkDType(options.dtype, op) : 'float32';
  const t = Tensor.empty(backend, checkShape(shape, op), dtype, op);
  backend.run({ kernel: 'fill', inputs: [], output: t.view(), attrs: { value } });
  return finish(t, options);
}

export function zeros(shape: Shape, options?: CreateOptions): Tensor {
  return filled(shape, 0, options, 'zeros');
}
export function ones(shape: Shape, options?: CreateOptions): Tensor {
  return filled(shape, 1, options, 'ones');
}
export function full(shape: Shape, value: number, options?: CreateOptions): Tensor {
  return filled(shape, value, options, 'full');
}
export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, backend: t.backend.name });
}
export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, backend: t.backend.name });
}
export function fullLike(t: Tensor, value: number): Tensor {
  return full(t.shape, value, { dtype: t.dtype, backend: t.backend.name });
}
/** A rank-0 tensor. */
export function scalar(value: number, options?: CreateOptions): Tensor {
  return full([], value, options);
}
/** @internal A scalar of `t`'s dtype and backend. */
export function scalarLike(t: Tensor, value: number): Tensor {
  return full([], value, { dtype: t.dtype, backend: t.backend.name });
}

/**
 * `[start, stop)` in steps of `step`; `arange(n)` is 0..n-1. dtype defaults to int32 when every
 * argument is an integer (as in PyTorch), else float32.
 */
export function arange(
  start: number,
  stop?: number,
  step = 1,
  options: CreateOptions = {},
): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step) || step === 0) {
    throw new RangeError(
      `arange: need finite start, stop and a non-zero step; got ${start}, ${stop}, ${step}`,
    );
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dtype =
    options.dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  const backend = getBackend(options.backend);
  const t = Tensor.empty(backend, [n], dtype, 'arange');
  backend.run({ kernel: 'arange', inputs: [], output: t.view(), attrs: { start, step } });
  return finish(t, options);
}

export interface RandomOptions extends Omit<CreateOptions, 'dtype'> {
  /** Seed of a one-off stream (offset 0 unless `offset` is given). */
  seed?: number;
  offset?: number;
  /** Generator to draw from (default: the global one, see `manualSeed`). */
  generator?: Generator;
}

let globalGenerator = new Generator(0);

/** Reseeds the global generator used by random ops without `seed` or `generator`. */
export function manualSeed(seed: number): void {
  globalGenerator = new Generator(seed);
}

/** The global generator (its `state()` belongs in a checkpoint). */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** @internal Resolves the (seed, offset) of a stream of n elements. */
export function streamStart(
  dist: RandomAttrs['dist'],
  n: number,
  options: RandomOptions,
): { seed: number; offset: number } {
  if (options.seed !== undefined) {
    if (options.generator)
      throw new TypeError('random ops: pass either seed or generator, not both');
    return { seed: options.seed, offset: options.offset ?? 0 };
  }
  return (options.generator ?? globalGenerator).next(dist, n);
}

function random(
  shape: Shape,
  dist: RandomAttrs['dist'],
  a: number,
  b: number,
  options: RandomOptions,
  op: string,
): Tensor {
  const backend = getBackend(options.backend);
  const s = checkShape(shape, op);
  const t = Tensor.empty(backend, s, 'float32', op);
  const { seed, offset } = streamStart(dist, shapeSize(s), options);
  const attrs: RandomAttrs = { seed, offset, dist, a, b };
  backend.run({
    kernel: 'random',
    inputs: [],
    output: t.view(),
    attrs: attrs as unknown as Record<string, unknown>,
  });
  return finish(t, options);
}

/** Normal samples (Philox + Box-Muller; identical on every backend for the same seed). */
export function randn(
  shape: Shape,
  options: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  return random(shape, 'normal', options.mean ?? 0, options.std ?? 1, options, 'randn');
}

/** Uniform samples in [low, high) (default [0, 1)). */
export function uniform(
  shape: Shape,
  options: RandomOptions & { low?: number; high?: number } = {},
): Tensor {
  return random(shape, 'uniform', options.low ?? 0, options.high ?? 1, options, 'uniform');
}

/** Counters a random op of `n` elements consumes (to advance a generator by hand). */
export { philoxCounters };

const castOp = defineOp<{ dtype: DType }>({
  name: 'cast',
  kind: 'primitive',
  doc: 'converts to another dtype (float -> int32 truncates toward zero)',
  differentiable: true,
  tolerance: { rtol: 0, atol: 0 },
  forward: ([x], { dtype }) => {
    const out = Tensor.empty(x.backend, x.shape, dtype, 'cast');
    x.backend.run({ kernel: 'cast', inputs: [x.view()], output: out.view(), attrs: {} });
    return out;
  },
  backward: (g, ctx) => [
    isFloatDType(ctx.inputDTypes[0] as DType) ? cast(g, ctx.inputDTypes[0] as DType) : null,
  ],
});

/** Converts `x` to `dtype` (a copy; the same dtype gives a copy too). */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkDType(dtype, 'cast');
  if (!isFloatDType(dtype) && x.requiresGrad) return noGrad(() => castOp([x], { dtype }));
  return castOp([x], { dtype });
}

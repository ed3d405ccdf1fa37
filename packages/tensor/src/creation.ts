/**
 * Creating tensors from nothing: from data, constants, ranges, and the seeded Philox streams, on
 * a backend named in the options (default: the current one). These sit above the Tensor class;
 * ops make tensors through their inputs instead (`t.newFull`, ops/fill.ts).
 */
import type { Backend } from './backend.js';
import { floatToBfloat16Bits, floatToFloat16Bits } from './cpu/half-precision.js';
import { checkDType, type DType } from './dtype.js';
import { UnsupportedOpError } from './errors.js';
import { arangeInto, fillTensor, randomInto } from './ops/fill.js';
import { type RandomOptions, streamStart } from './ops/random-stream.js';
import { philoxCounters, type RandomAttrs } from './philox.js';
import { getBackend } from './registry.js';
import { checkShape, formatShape, type Shape, shapeSize } from './shape.js';
import { Tensor } from './tensor.js';

export {
  defaultGenerator,
  manualSeed,
  type RandomOptions,
} from './ops/random-stream.js';

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
  // the backend's write copies, so an array of the right type goes as it is
  if (dtype === 'int32') return values instanceof Int32Array ? values : Int32Array.from(values);
  if (dtype === 'float32') {
    return values instanceof Float32Array ? values : Float32Array.from(values);
  }
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
  return finish(fillTensor(t, value), options);
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
/** Zeros of `t`'s shape, dtype and backend. */
export function zerosLike(t: Tensor): Tensor {
  return t.newFull(t.shape, 0);
}
/** Ones of `t`'s shape, dtype and backend. */
export function onesLike(t: Tensor): Tensor {
  return t.newFull(t.shape, 1);
}
/** `value` everywhere, in `t`'s shape, dtype and backend. */
export function fullLike(t: Tensor, value: number): Tensor {
  return t.newFull(t.shape, value);
}
/** A rank-0 tensor. */
export function scalar(value: number, options?: CreateOptions): Tensor {
  return full([], value, options);
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
  return finish(arangeInto(t, start, step), options);
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
  return finish(randomInto(t, { seed, offset, dist, a, b }), options);
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

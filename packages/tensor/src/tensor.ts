/**
 * The Tensor: a typed, strided view of reference-counted backend storage, plus autograd state.
 * Views (reshape, permute, slice, expand) share storage and cost no copy. Every op is also a
 * method here so model code reads left to right: `x.matmul(w).add(b).gelu()`.
 *
 * Layering: this module imports the ops (for the methods); the ops never import it at run time.
 * They make new tensors through an existing one (`newEmpty`, `newFull`, like PyTorch's
 * `new_empty`), and functions that create tensors from nothing (`tensor`, `zeros`, ...) live
 * above it, in creation.ts.
 */
import { type BackwardOptions, type Node, backward as runBackward } from './autograd.js';
import type { Backend, TensorView } from './backend.js';
import { DTYPE_BYTES, type DType, isFloatDType } from './dtype.js';
import { trackTensor, untrackTensor } from './engine.js';
import { DisposedTensorError, UnsupportedOpError } from './errors.js';
import { cast } from './ops/cast.js';
import {
  abs,
  add,
  cos,
  div,
  eq,
  exp,
  ge,
  gt,
  le,
  log,
  lt,
  maximum,
  minimum,
  mul,
  ne,
  neg,
  type Operand,
  pow,
  recip,
  relu,
  rsqrt,
  sigmoid,
  sign,
  sin,
  sqrt,
  square,
  sub,
  tanh,
} from './ops/elementwise.js';
import { fillTensor } from './ops/fill.js';
import { assign, checkInplace, inplaceBinary } from './ops/inplace.js';
import { matmul } from './ops/matmul.js';
import { type DropoutOptions, dropout, gelu, logSoftmax, silu, softmax } from './ops/nn.js';
import { argmax, logsumexp, max, mean, min, sum } from './ops/reduce.js';
import {
  clone,
  contiguous,
  expand,
  flatten,
  permute,
  reshape,
  slice,
  squeeze,
  transpose,
  unsqueeze,
} from './ops/views.js';
import { getBackend } from './registry.js';
import {
  broadcastStrides,
  contiguousStrides,
  formatShape,
  isContiguous,
  type Shape,
  shapeSize,
} from './shape.js';
import { Storage } from './storage.js';

/** Nested number arrays as returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

export class Tensor {
  /** Marker for `tidy` result scanning across duplicate installs. */
  readonly __isTensor = true;
  readonly id: number;
  /** The op that produced this tensor (for messages and leak reports). */
  readonly op: string;
  private _requiresGrad = false;
  private _disposed = false;
  /** Accumulated gradient of a leaf after `backward()`; `zeroGrad()` disposes it. */
  grad: Tensor | null = null;
  /** @internal Autograd node that produced this tensor. */
  node: Node | null = null;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    /** @internal */ readonly storage: Storage,
    readonly shape: Shape,
    readonly strides: readonly number[],
    readonly offset: number,
    readonly dtype: DType,
    op: string,
    inScope = true,
  ) {
    this.op = op;
    this.id = trackTensor(this, inScope);
  }

  /** @internal A new contiguous tensor on `backend` (uninitialized until a kernel writes it). */
  static empty(backend: Backend, shape: Shape, dtype: DType, op: string): Tensor {
    const storage = Storage.alloc(backend, Math.max(shapeSize(shape), 1) * DTYPE_BYTES[dtype]);
    return new Tensor(storage, shape, contiguousStrides(shape), 0, dtype, op);
  }

  /**
   * @internal A new contiguous tensor on this tensor's backend (uninitialized until a kernel
   * writes it): how ops, which sit below this class, create their outputs.
   */
  newEmpty(shape: Shape, dtype: DType, op: string): Tensor {
    return Tensor.empty(this.backend, shape, dtype, op);
  }

  /** @internal A new tensor of `shape` filled with `value`, on this tensor's backend. */
  newFull(shape: Shape, value: number, dtype: DType = this.dtype, op = 'full'): Tensor {
    return fillTensor(this.newEmpty(shape, dtype, op), value);
  }

  /** @internal A view of this tensor's storage with other metadata (no copy). */
  viewAs(shape: Shape, strides: readonly number[], offset: number, op: string): Tensor {
    this.assertAlive(op);
    this.storage.retain();
    return new Tensor(this.storage, shape, strides, offset, this.dtype, op);
  }

  /** @internal Same data and metadata, no autograd, not owned by any scope. */
  alias(): Tensor {
    this.assertAlive('alias');
    this.storage.retain();
    return new Tensor(
      this.storage,
      this.shape,
      this.strides,
      this.offset,
      this.dtype,
      this.op,
      false,
    );
  }

  get backend(): Backend {
    return this.storage.backend;
  }
  get size(): number {
    return shapeSize(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get disposed(): boolean {
    return this._disposed;
  }
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** Whether gradients flow to this tensor. Settable on leaves (tensors no op produced). */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(value: boolean) {
    if (this.node) {
      throw new Error(
        `requiresGrad: ${this.toString()} was produced by an op; only leaves can be marked. Use detach() for a new leaf`,
      );
    }
    if (value && !isFloatDType(this.dtype)) {
      throw new UnsupportedOpError(
        'requiresGrad',
        this.dtype,
        this.backend.name,
        'only float tensors carry gradients',
      );
    }
    this._requiresGrad = value;
  }

  /** Marks this leaf as requiring grad (chainable). */
  requireGrad(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** @internal Attaches the autograd node of the op that produced this tensor. */
  setNode(node: Node): void {
    this.node = node;
    this._requiresGrad = true;
  }

  /** The kernel-facing description of this tensor. */
  view(): TensorView {
    return {
      buf: this.storage.buf,
      dtype: this.dtype,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
    };
  }

  /** @internal This tensor's view broadcast to `shape` (stride 0 on repeated axes). */
  broadcastView(shape: Shape, where: string): TensorView {
    return {
      buf: this.storage.buf,
      dtype: this.dtype,
      shape,
      strides: broadcastStrides(this.shape, this.strides, shape, where),
      offset: this.offset,
    };
  }

  /** @internal Throws DisposedTensorError when this tensor was disposed. */
  assertAlive(where: string): void {
    if (this._disposed) throw new DisposedTensorError(this.describe(), where);
  }

  private describe(): string {
    return `#${this.id} ${this.dtype}${formatShape(this.shape)} from '${this.op}'`;
  }

  toString(): string {
    return `Tensor(${this.describe()}${this._disposed ? ', disposed' : ''})`;
  }

  /** Releases this tensor (its buffer once no other view or saved value uses it). Idempotent. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    untrackTensor(this);
    this.storage.release();
    const node = this.node;
    this.node = null;
    node?.release();
    this.grad?.dispose();
    this.grad = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- reading data -------------------------------------------------------------------------

  /** The elements in row-major order, as a fresh typed array (async: GPUs read back). */
  async data(): Promise<Float32Array | Int32Array> {
    this.assertAlive('data');
    this.checkReadable('data');
    const c = this.isContiguous ? this : contiguous(this);
    try {
      const bytes = await c.backend.read(c.storage.buf, c.offset * 4, c.size * 4);
      return this.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
    } finally {
      if (c !== this) c.dispose();
    }
  }

  /** Synchronous `data()`, on backends with host memory (CPU). */
  dataSync(): Float32Array | Int32Array {
    this.assertAlive('dataSync');
    this.checkReadable('dataSync');
    const readSync = this.syncReader('dataSync');
    return this.withContiguous((c) => {
      const bytes = readSync(c.storage.buf, c.offset * 4, c.size * 4);
      return this.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
    });
  }

  /** The backend's synchronous read, or the error that this backend has none. */
  private syncReader(where: string, instead = 'data'): NonNullable<Backend['readSync']> {
    const be = this.backend;
    if (!be.readSync) {
      throw new UnsupportedOpError(
        where,
        this.dtype,
        be.name,
        `use await t.${instead}() on this backend`,
      );
    }
    return be.readSync.bind(be);
  }

  /** `f` of this tensor, or of a contiguous copy of it that is freed afterwards. */
  private withContiguous<R>(f: (c: Tensor) => R): R {
    const c = this.isContiguous ? this : contiguous(this);
    try {
      return f(c);
    } finally {
      if (c !== this) c.dispose();
    }
  }

  /**
   * `dataSync()` into `out` (length `size`, Float32Array for float32, Int32Array for int32)
   * instead of a new array; returns `out`. For hot loops that read the same tensors every step
   * (gradients into a communication buffer). CPU.
   */
  dataSyncInto<T extends Float32Array | Int32Array>(out: T): T {
    this.assertAlive('dataSyncInto');
    this.checkReadable('dataSyncInto');
    this.checkHostArray(out, 'dataSyncInto', 'out');
    const readSync = this.syncReader('dataSyncInto');
    const be = this.backend;
    this.withContiguous((c) => {
      const dst = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      if (be.readSyncInto) be.readSyncInto(c.storage.buf, dst, c.offset * 4);
      else dst.set(new Uint8Array(readSync(c.storage.buf, c.offset * 4, c.size * 4)));
    });
    return out;
  }

  /** Throws unless `a` is a typed array of this tensor's dtype (float32/int32) and size. */
  private checkHostArray(a: Float32Array | Int32Array, where: string, name: string): void {
    const want =
      this.dtype === 'int32' ? Int32Array : this.dtype === 'float32' ? Float32Array : undefined;
    if (want === undefined) {
      throw new UnsupportedOpError(where, this.dtype, this.backend.name, 'cast to float32 first');
    }
    if (!(a instanceof want) || a.length !== this.size) {
      throw new RangeError(
        `${where}: ${name} must be a ${want.name} of ${this.size} elements (the tensor's size), got ${a.constructor.name}(${a.length})`,
      );
    }
  }

  /**
   * The raw little-endian bytes of the elements in row-major order, in this tensor's dtype (any
   * dtype, including float16/bfloat16 bits): what a checkpoint file stores.
   */
  async bytes(): Promise<Uint8Array> {
    this.assertAlive('bytes');
    const c = this.isContiguous ? this : contiguous(this);
    try {
      const w = DTYPE_BYTES[this.dtype];
      return new Uint8Array(await c.backend.read(c.storage.buf, c.offset * w, c.size * w));
    } finally {
      if (c !== this) c.dispose();
    }
  }

  /** Synchronous `bytes()` (CPU). */
  bytesSync(): Uint8Array {
    this.assertAlive('bytesSync');
    const readSync = this.syncReader('bytesSync', 'bytes');
    const w = DTYPE_BYTES[this.dtype];
    return this.withContiguous(
      (c) => new Uint8Array(readSync(c.storage.buf, c.offset * w, c.size * w)),
    );
  }

  /** The elements as nested arrays of `shape` (a number for a scalar). */
  async toArray(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** Synchronous `toArray()` (CPU). */
  toArraySync(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    this.checkItem();
    return (await this.data())[0];
  }

  /** Synchronous `item()` (CPU). */
  itemSync(): number {
    this.checkItem();
    return this.dataSync()[0];
  }

  private checkReadable(where: string): void {
    if (this.dtype !== 'float32' && this.dtype !== 'int32') {
      throw new UnsupportedOpError(
        where,
        this.dtype,
        this.backend.name,
        'cast to float32 before reading',
      );
    }
  }

  private checkItem(): void {
    if (this.size !== 1) {
      throw new RangeError(
        `item: ${this.toString()} has ${this.size} elements; item() needs exactly one`,
      );
    }
  }

  /** A copy on another (loaded) backend. */
  async to(backendName: string): Promise<Tensor> {
    const target = getBackend(backendName);
    const bytes = await this.bytes();
    const out = Tensor.empty(target, this.shape, this.dtype, 'to');
    target.write(out.storage.buf, bytes);
    return out;
  }

  // ---- autograd -----------------------------------------------------------------------------

  /**
   * Backpropagates into the `.grad` of every leaf this tensor depends on (accumulating).
   * `options.onLeafGradReady(leaf)` is called once per leaf as soon as its gradient is final.
   */
  backward(grad?: Tensor, options?: BackwardOptions): void {
    runBackward(this, grad, options);
  }

  /** A view sharing data but cut from the graph (a new leaf with requiresGrad false). */
  detach(): Tensor {
    return this.viewAs(this.shape, this.strides, this.offset, 'detach');
  }

  /** Disposes and clears `.grad`. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  // ---- creation helpers ----------------------------------------------------------------------

  zerosLike(): Tensor {
    return this.newFull(this.shape, 0);
  }
  onesLike(): Tensor {
    return this.newFull(this.shape, 1);
  }
  fullLike(value: number): Tensor {
    return this.newFull(this.shape, value);
  }
  /** @internal A scalar of this tensor's dtype and backend. */
  scalarLike(value: number): Tensor {
    return this.newFull([], value);
  }

  // ---- views --------------------------------------------------------------------------------

  reshape(shape: readonly number[]): Tensor {
    return reshape(this, shape);
  }
  flatten(): Tensor {
    return flatten(this);
  }
  permute(perm: readonly number[]): Tensor {
    return permute(this, perm);
  }
  transpose(a = -2, b = -1): Tensor {
    return transpose(this, a, b);
  }
  /** Transpose of the last two axes (matrix transpose, batched). */
  get mT(): Tensor {
    return transpose(this, -2, -1);
  }
  slice(axis: number, start: number, end?: number): Tensor {
    return slice(this, axis, start, end);
  }
  expand(shape: readonly number[]): Tensor {
    return expand(this, shape);
  }
  squeeze(axis?: number): Tensor {
    return squeeze(this, axis);
  }
  unsqueeze(axis: number): Tensor {
    return unsqueeze(this, axis);
  }
  contiguous(): Tensor {
    return contiguous(this);
  }
  clone(): Tensor {
    return clone(this);
  }
  cast(dtype: DType): Tensor {
    return cast(this, dtype);
  }

  // ---- elementwise --------------------------------------------------------------------------

  neg(): Tensor {
    return neg(this);
  }
  exp(): Tensor {
    return exp(this);
  }
  log(): Tensor {
    return log(this);
  }
  sqrt(): Tensor {
    return sqrt(this);
  }
  rsqrt(): Tensor {
    return rsqrt(this);
  }
  recip(): Tensor {
    return recip(this);
  }
  tanh(): Tensor {
    return tanh(this);
  }
  sin(): Tensor {
    return sin(this);
  }
  cos(): Tensor {
    return cos(this);
  }
  abs(): Tensor {
    return abs(this);
  }
  sign(): Tensor {
    return sign(this);
  }
  square(): Tensor {
    return square(this);
  }
  relu(): Tensor {
    return relu(this);
  }
  sigmoid(): Tensor {
    return sigmoid(this);
  }
  gelu(): Tensor {
    return gelu(this);
  }
  silu(): Tensor {
    return silu(this);
  }
  add(o: Operand): Tensor {
    return add(this, o);
  }
  sub(o: Operand): Tensor {
    return sub(this, o);
  }
  mul(o: Operand): Tensor {
    return mul(this, o);
  }
  div(o: Operand): Tensor {
    return div(this, o);
  }
  pow(o: Operand): Tensor {
    return pow(this, o);
  }
  maximum(o: Operand): Tensor {
    return maximum(this, o);
  }
  minimum(o: Operand): Tensor {
    return minimum(this, o);
  }
  lt(o: Operand): Tensor {
    return lt(this, o);
  }
  le(o: Operand): Tensor {
    return le(this, o);
  }
  gt(o: Operand): Tensor {
    return gt(this, o);
  }
  ge(o: Operand): Tensor {
    return ge(this, o);
  }
  eq(o: Operand): Tensor {
    return eq(this, o);
  }
  ne(o: Operand): Tensor {
    return ne(this, o);
  }

  // ---- reductions and linear algebra ----------------------------------------------------------

  sum(axes?: number | readonly number[], keepDims = false): Tensor {
    return sum(this, axes, keepDims);
  }
  mean(axes?: number | readonly number[], keepDims = false): Tensor {
    return mean(this, axes, keepDims);
  }
  max(axes?: number | readonly number[], keepDims = false): Tensor {
    return max(this, axes, keepDims);
  }
  min(axes?: number | readonly number[], keepDims = false): Tensor {
    return min(this, axes, keepDims);
  }
  argmax(axis = -1, keepDims = false): Tensor {
    return argmax(this, axis, keepDims);
  }
  logsumexp(axes?: number | readonly number[], keepDims = false): Tensor {
    return logsumexp(this, axes, keepDims);
  }
  matmul(o: Tensor): Tensor {
    return matmul(this, o);
  }
  softmax(axis = -1): Tensor {
    return softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return logSoftmax(this, axis);
  }
  dropout(p: number, options: DropoutOptions = {}): Tensor {
    return dropout(this, p, options);
  }

  // ---- in place (parameters under noGrad) ------------------------------------------------------

  /** Copies `src` (broadcast, cast) into this tensor's storage. */
  assign(src: Operand): this {
    assign(this, src);
    return this;
  }
  /**
   * Copies host `values` (row-major; Float32Array for float32, Int32Array for int32, of this
   * tensor's size) into this tensor's storage, in place, without a temporary tensor.
   */
  assignData(values: Float32Array | Int32Array): this {
    checkInplace(this, 'assignData');
    this.checkHostArray(values, 'assignData', 'values');
    if (this.isContiguous) {
      this.backend.write(this.storage.buf, values, this.offset * 4);
      this.storage.version++;
      return this;
    }
    const src = Tensor.empty(this.backend, this.shape, this.dtype, 'assignData');
    try {
      this.backend.write(src.storage.buf, values);
      assign(this, src);
    } finally {
      src.dispose();
    }
    return this;
  }
  /** this += alpha * o, in place. */
  add_(o: Operand, alpha = 1): this {
    inplaceBinary(this, 'add', o, alpha);
    return this;
  }
  /** this -= alpha * o, in place. */
  sub_(o: Operand, alpha = 1): this {
    inplaceBinary(this, 'sub', o, alpha);
    return this;
  }
  /** this *= o, in place. */
  mul_(o: Operand): this {
    inplaceBinary(this, 'mul', o, 1);
    return this;
  }
  /** this /= o, in place. */
  div_(o: Operand): this {
    inplaceBinary(this, 'div', o, 1);
    return this;
  }
  /** Sets every element to `value` in place. */
  fill_(value: number): this {
    assign(this, value);
    return this;
  }
  zero_(): this {
    return this.fill_(0);
  }
}

function nest(data: Float32Array | Int32Array, shape: Shape): NestedArray {
  if (shape.length === 0) return data[0];
  const build = (axis: number, off: number): NestedArray[] => {
    const n = shape[axis];
    const step = shapeSize(shape.slice(axis + 1));
    const out: NestedArray[] = new Array(n);
    for (let i = 0; i < n; i++)
      out[i] = axis === shape.length - 1 ? data[off + i] : build(axis + 1, off + i * step);
    return out;
  };
  return build(0, 0);
}

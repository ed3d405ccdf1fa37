/**
 * The backend contract: storage plus kernels. Everything above it (views, broadcasting,
 * autograd, composed ops) is backend-independent. A new backend implements `Backend`, registers
 * a factory with `registerBackend`, and runs `runConformanceSuite` from `@lrw/tensor/testing`.
 */

import type { OpContext } from './autograd.js';
import type { DType } from './dtype.js';
import type { Shape } from './shape.js';
import type { Tensor } from './tensor.js';

/** An opaque buffer handle owned by one backend. Only its size is visible above the backend. */
export interface Buf {
  readonly byteLength: number;
}

/**
 * A strided view of a buffer, as kernels see their operands. `strides` and `offset` count
 * elements; a stride of 0 repeats data (broadcasting); transposes are swapped strides.
 */
export interface TensorView {
  readonly buf: Buf;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Primitive kernels that every backend implements (see docs/architecture.md for semantics). */
export const UNARY_KERNELS = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'recip',
  'tanh',
  'sin',
  'cos',
  'abs',
  'sign',
] as const;
export const BINARY_KERNELS = [
  'add',
  'sub',
  'mul',
  'div',
  'maximum',
  'minimum',
  'pow',
  'lt',
  'le',
  'gt',
  'ge',
  'eq',
  'ne',
] as const;
export const REDUCE_KERNELS = ['sum', 'max', 'min', 'argmax'] as const;
export const OTHER_KERNELS = [
  'where',
  'copy',
  'cast',
  'fill',
  'arange',
  'random',
  'matmul',
  'gather',
  'scatterAdd',
] as const;

export type UnaryKernel = (typeof UNARY_KERNELS)[number];
export type BinaryKernel = (typeof BINARY_KERNELS)[number];
export type ReduceKernel = (typeof REDUCE_KERNELS)[number];
export type PrimitiveKernel =
  | UnaryKernel
  | BinaryKernel
  | ReduceKernel
  | (typeof OTHER_KERNELS)[number];

/** Every primitive kernel name. */
export const PRIMITIVE_KERNELS: readonly PrimitiveKernel[] = [
  ...UNARY_KERNELS,
  ...BINARY_KERNELS,
  ...REDUCE_KERNELS,
  ...OTHER_KERNELS,
];

/** Kernel names are the primitives plus any backend-specific name a routine uses. */
export type KernelName = PrimitiveKernel | (string & {});

/**
 * One kernel launch. Semantics per kernel:
 * - unary/binary/where/copy/cast: `inputs` are views already broadcast to `output.shape`.
 * - sum/max/min/argmax: input contiguous `[outer, inner]` (attrs.inner), output `[outer]`.
 * - matmul: inputs `[...batch, M, K]` and `[...batch, K, N]` (any strides: transposes are free),
 *   output contiguous `[...batch, M, N]`.
 * - gather: inputs table `[V, R]` contiguous and int32 indices `[N]`; output `[N, R]`.
 * - scatterAdd: inputs int32 indices `[N]` and src `[N, R]`; adds rows into output `[V, R]`.
 * - fill (attrs.value), arange (attrs.start, attrs.step), random (attrs of `RandomAttrs`).
 */
export interface KernelCall {
  readonly kernel: KernelName;
  readonly inputs: readonly TensorView[];
  readonly output: TensorView;
  readonly attrs: Readonly<Record<string, unknown>>;
}

export interface BackendMemory {
  /** Buffers handed out and not yet freed. */
  buffers: number;
  /** Bytes of those buffers. */
  bytes: number;
  /** Buffers kept in the pool for reuse. */
  pooledBuffers: number;
  pooledBytes: number;
}

/**
 * A fused implementation of a composite op (softmax, crossEntropy, layerNorm, ...). Routines
 * work on tensors; a routine without `backward` is used only when no gradient is needed (the
 * composition runs otherwise).
 */
export interface Routine {
  // biome-ignore lint/suspicious/noExplicitAny: attrs are op-specific (see the op table)
  forward(inputs: readonly Tensor[], attrs: any, ctx: OpContext): Tensor;
  backward?(grad: Tensor, ctx: OpContext): (Tensor | null)[];
}

/** The thin backend interface. Buffers are opaque; reads are async so GPUs fit. */
export interface Backend {
  readonly name: string;
  /** Uninitialized storage of at least `bytes` bytes (pooled). */
  alloc(bytes: number): Buf;
  free(buf: Buf): void;
  write(buf: Buf, src: ArrayBufferView, byteOffset?: number): void;
  read(buf: Buf, byteOffset?: number, byteLength?: number): Promise<ArrayBuffer>;
  /** Synchronous read, only where the data lives in host memory (CPU). */
  readSync?(buf: Buf, byteOffset?: number, byteLength?: number): ArrayBuffer;
  /** Runs (or enqueues, in order) one kernel; throws UnsupportedOpError when it has none. */
  run(call: KernelCall): void;
  /** Whether `kernel` is available for `dtype`. */
  supports(kernel: KernelName, dtype: DType): boolean;
  /** A fused routine for a composite op, when the backend has one. */
  routine?(op: string): Routine | undefined;
  /** Resolves when every enqueued kernel has finished. */
  sync(): Promise<void>;
  memory(): BackendMemory;
  /** Releases pooled memory. */
  emptyPool?(): void;
}

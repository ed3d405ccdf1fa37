/**
 * The backend contract: storage plus kernels, nothing else. Everything above it (views,
 * broadcasting, autograd, composed ops, fused routines) is backend-independent.
 *
 * Writing a backend:
 * - Implement `Backend` below: buffers (`alloc`, `free`, `write`, `read`, `sync`, `memory`) and
 *   `run(call)` for the primitive kernels of `PRIMITIVE_KERNELS`. Attributes of each kernel are
 *   typed by name in `KernelAttrs` (`call.attrs.inner` of a `sum` is a number, no cast).
 * - Keep kernels in a table: extend `KernelBackend` (kernel-backend.ts), which gives
 *   `registerKernel(name, fn)`, `kernel(name)`, the `UnsupportedOpError` of a missing kernel,
 *   and the optional table of fused routines (`registerRoutine(op, routine)`, `routine(op)`).
 *   The cpu, webgpu, gpujs and cuda backends all do.
 * - Fused routines (softmax, layerNorm, attention, ...) work on tensors, so they live above the
 *   Tensor class (routine.ts defines `Routine` and the typed `RoutineAttrs`); whoever assembles
 *   a backend registers them on it (`createFastCpuBackend`, `createWebGpuBackend`), and the op
 *   table finds them with `routineOf(backend, op)`. A backend module never imports a routine.
 * - Register a factory from the entry point (builtin-backends.ts), loading native code with a
 *   dynamic `import()` inside it, and run `runConformanceSuite` from `@lrw/tensor/testing`.
 * See docs/backends.md.
 */

import type { DType } from './dtype.js';
import type { RandomAttrs } from './philox.js';
import type { Shape } from './shape.js';

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

/** Attributes of a reduction: the input is contiguous `[outer, inner]`, the output `[outer]`. */
export interface ReduceKernelAttrs {
  inner: number;
}

/** No attributes. */
export type NoKernelAttrs = Readonly<Record<string, never>>;

/**
 * The attributes of each kernel that has some, by kernel name; every other primitive takes
 * none. A backend with kernels of its own can type them too, by declaration merging:
 * `declare module '@lrw/tensor' { interface KernelAttrs { myKernel: { k: number } } }`.
 */
export interface KernelAttrs {
  sum: ReduceKernelAttrs;
  max: ReduceKernelAttrs;
  min: ReduceKernelAttrs;
  argmax: ReduceKernelAttrs;
  /** Every element of the output becomes `value`. */
  fill: { value: number };
  /** output[i] = start + i * step. */
  arange: { start: number; step: number };
  /** The Philox stream of philox.ts. */
  random: RandomAttrs;
}

/**
 * The attributes of kernel `K`: its `KernelAttrs` entry, none for another primitive, and a loose
 * record for a call whose kernel is not known statically (`KernelCall` without an argument),
 * so kernels written against the untyped call keep compiling.
 */
export type KernelAttrsOf<K extends KernelName> = string extends K
  ? Readonly<Record<string, unknown>>
  : K extends keyof KernelAttrs
    ? Readonly<KernelAttrs[K]>
    : K extends PrimitiveKernel
      ? NoKernelAttrs
      : Readonly<Record<string, unknown>>;

/**
 * One kernel launch. Semantics per kernel:
 * - unary/binary/where/copy/cast: `inputs` are views already broadcast to `output.shape`.
 * - sum/max/min/argmax: input contiguous `[outer, inner]` (attrs.inner), output `[outer]`.
 * - matmul: inputs `[...batch, M, K]` and `[...batch, K, N]` (any strides: transposes are free),
 *   output contiguous `[...batch, M, N]`.
 * - gather: inputs table `[V, R]` contiguous and int32 indices `[N]`; output `[N, R]`.
 * - scatterAdd: inputs int32 indices `[N]` and src `[N, R]`; adds rows into output `[V, R]`.
 * - fill, arange, random: contiguous output, attrs of `KernelAttrs`.
 */
export interface KernelCall<K extends KernelName = KernelName> {
  readonly kernel: K;
  readonly inputs: readonly TensorView[];
  readonly output: TensorView;
  readonly attrs: KernelAttrsOf<K>;
}

/**
 * A kernel implementation of backend `B` for kernel `K` (called only with calls of that name,
 * so `call.attrs` is typed). Written as a method type so that a table can hold the kernels of
 * different names side by side.
 */
export type KernelFn<B, K extends KernelName = KernelName> = {
  run(call: KernelCall<K>, backend: B): void;
}['run'];

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
 * The thin backend interface: storage and kernels. Buffers are opaque; reads are async so GPUs
 * fit. (Fused routines are not part of it: see `routineOf` in routine.ts.)
 */
export interface Backend {
  readonly name: string;
  /** Uninitialized storage of at least `bytes` bytes (pooled). */
  alloc(bytes: number): Buf;
  free(buf: Buf): void;
  write(buf: Buf, src: ArrayBufferView, byteOffset?: number): void;
  read(buf: Buf, byteOffset?: number, byteLength?: number): Promise<ArrayBuffer>;
  /** Synchronous read, only where the data lives in host memory (CPU). */
  readSync?(buf: Buf, byteOffset?: number, byteLength?: number): ArrayBuffer;
  /** `readSync` into `dst` (its byteLength bytes from `byteOffset`), without allocating. */
  readSyncInto?(buf: Buf, dst: Uint8Array, byteOffset?: number): void;
  /** Runs (or enqueues, in order) one kernel; throws UnsupportedOpError when it has none. */
  run<K extends KernelName>(call: KernelCall<K>): void;
  /** Whether `kernel` is available for `dtype`. */
  supports(kernel: KernelName, dtype: DType): boolean;
  /** Resolves when every enqueued kernel has finished. */
  sync(): Promise<void>;
  memory(): BackendMemory;
  /** Releases pooled memory. */
  emptyPool?(): void;
}

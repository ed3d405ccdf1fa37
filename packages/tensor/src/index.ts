/**
 * @lrw/tensor: autograd tensors over a thin backend interface. The entry point: it registers the
 * built-in backends ('cpu', 'cpu-reference', 'webgpu', 'gpujs', 'cuda') and re-exports the API. See README.md for
 * the API and docs/architecture.md for the layering.
 */
import { registerBuiltinBackends } from './builtin-backends.js';

registerBuiltinBackends();

export { type BackwardOptions, backward, OpContext } from './autograd.js';
export {
  type Backend,
  type BackendMemory,
  BINARY_KERNELS,
  type Buf,
  type KernelAttrs,
  type KernelAttrsOf,
  type KernelCall,
  type KernelFn,
  type KernelName,
  type NoKernelAttrs,
  PRIMITIVE_KERNELS,
  type PrimitiveKernel,
  REDUCE_KERNELS,
  type ReduceKernelAttrs,
  type TensorView,
  UNARY_KERNELS,
} from './backend.js';
export {
  allocateArrayBufferBlock,
  CpuBackend,
  type CpuBackendOptions,
  type CpuBlock,
  type CpuKernel,
  cpuReferenceKernels,
  createCpuBackend,
  type NumArray,
} from './cpu/cpu-backend.js';
export {
  type BlasMode,
  blasProviderOf,
  type CpuFlavour,
  type CpuProvider,
  type CpuStorage,
  cpuProvider,
  createDefaultCpuBackend,
  createFastCpuBackend,
  type FastCpuBackendOptions,
  type GemmMode,
  wasmKernelsOf,
} from './cpu-wasm/fast-backend.js';
export {
  arange,
  type CreateOptions,
  defaultGenerator,
  full,
  fullLike,
  manualSeed,
  ones,
  onesLike,
  type RandomOptions,
  randn,
  scalar,
  type TensorData,
  tensor,
  uniform,
  zeros,
  zerosLike,
} from './creation.js';
export { DTYPE_BYTES, DTYPES, type DType, isFloatDType } from './dtype.js';
export {
  assertNoLeaks,
  enableGrad,
  isGradEnabled,
  keep,
  liveTensors,
  noGrad,
  tidy,
} from './engine.js';
export { DisposedTensorError, LeakError, UnsupportedOpError } from './errors.js';
export { KernelBackend, type KernelTable } from './kernel-backend.js';
export { type MemoryInfo, memory } from './memory.js';
export {
  applyOp,
  DEFAULT_TOLERANCE,
  defineOp,
  HALF_TOLERANCE,
  type OpDef,
  opTable,
  type Tolerance,
  toleranceFor,
} from './op-table.js';
export {
  type AdamWHyper,
  type AdamWPath,
  type AdamWRoutineAttrs,
  adamwStep,
} from './ops/adamw.js';
export { cast } from './ops/cast.js';
export {
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
  where,
} from './ops/elementwise.js';
export { embedding, gather, scatterAdd, takeAlongLastAxis } from './ops/indexing.js';
export { matmul } from './ops/matmul.js';
export {
  type AttentionOptions,
  type CrossEntropyOptions,
  crossEntropy,
  type DropoutOptions,
  dropout,
  gelu,
  layerNorm,
  linearCrossEntropy,
  logSoftmax,
  rmsNorm,
  scaledDotProductAttention,
  silu,
  softmax,
} from './ops/nn.js';
export { argmax, logsumexp, max, mean, min, sum, sumTo } from './ops/reduce.js';
export {
  clone,
  concat,
  contiguous,
  expand,
  flatten,
  permute,
  reshape,
  slice,
  split,
  squeeze,
  transpose,
  unsqueeze,
} from './ops/views.js';
export {
  Generator,
  philox4x32,
  philoxFill,
  type RandomAttrs,
  type RandomDistribution,
} from './philox.js';
export {
  backendNames,
  currentBackendName,
  getBackend,
  loadBackend,
  type RegisterBackendOptions,
  registerBackend,
  setBackend,
} from './registry.js';
export {
  type AttentionAttrs,
  type AxesAttrs,
  type CrossEntropyAttrs,
  type DropoutAttrs,
  type NoAttrs,
  type NormAttrs,
  type Routine,
  type RoutineAttrs,
  type RoutineHost,
  type RoutineName,
  type RoutineOf,
  type RoutineTable,
  routineOf,
  type SoftmaxAttrs,
} from './routine.js';
export {
  broadcastShapes,
  contiguousStrides,
  formatShape,
  isContiguous,
  type Shape,
  shapeSize,
  shapesEqual,
} from './shape.js';
export { type NestedArray, Tensor } from './tensor.js';

/** The package name, as published. */
export const packageName = '@lrw/tensor';

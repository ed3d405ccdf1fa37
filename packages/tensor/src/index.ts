/**
 * @lrw/tensor: autograd tensors over a thin backend interface, with the CPU reference backend.
 * See README.md for the API and docs/architecture.md for the layering.
 */

export { backward, OpContext } from './autograd.js';
export {
  type Backend,
  type BackendMemory,
  BINARY_KERNELS,
  type Buf,
  type KernelCall,
  type KernelName,
  PRIMITIVE_KERNELS,
  type PrimitiveKernel,
  REDUCE_KERNELS,
  type Routine,
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
  wasmKernelsOf,
} from './cpu-wasm/fast-backend.js';
export { DTYPE_BYTES, DTYPES, type DType, isFloatDType } from './dtype.js';
export {
  assertNoLeaks,
  enableGrad,
  isGradEnabled,
  keep,
  liveTensors,
  type MemoryInfo,
  memory,
  noGrad,
  tidy,
} from './engine.js';
export { DisposedTensorError, LeakError, UnsupportedOpError } from './errors.js';
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
export {
  arange,
  type CreateOptions,
  cast,
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
} from './ops/creation.js';
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
  registerBackend,
  setBackend,
} from './registry.js';
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

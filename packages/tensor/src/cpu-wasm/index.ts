// WebAssembly SIMD fast path of the CPU backend (see README.md in this folder).

export {
  ATTENTION_BLOCK,
  blockwiseAttentionRoutine,
  type TileGemm,
} from '../cpu/blockwise-attention.js';
export { cpuFusedRoutines } from '../cpu/fused-routines.js';
export {
  type BlasMatmulOptions,
  blasMatmulKernel,
  DEFAULT_BLAS_MIN_FLOPS,
} from '../cpu-blas/matmul-kernel.js';
export {
  type BlasLoadResult,
  type BlasProvider,
  DEFAULT_BLAS_LIBRARIES,
  loadBlasProvider,
  loadNativeGemmProvider,
  type NativeGemmIsa,
  type SgemmArgs,
} from '../cpu-blas/provider.js';
export type { AdamWStep, ElementwiseKernels } from './elementwise.js';
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
  wasmHeapBlocks,
  wasmKernelsOf,
} from './fast-backend.js';
export { wasmGeluRoutine } from './gelu-routine.js';
export { WASM32_MAX_BYTES, WasmHeap } from './heap.js';
export {
  type KernelVariant,
  kernelBytes,
  relaxedSimdSupported,
  sharedMemorySupported,
} from './kernels.js';
export { linearCrossEntropyRoutine } from './linear-cross-entropy.js';
export { wasmMatmulKernel } from './matmul-kernel.js';
export { wasmLayerNormRoutine } from './norm-routine.js';
export {
  createWasmKernels,
  createWasmKernelsSync,
  DEFAULT_PARALLEL_THRESHOLD_FLOPS,
  type MatmulOptions,
  planGemm,
  type WasmKernels,
  type WasmKernelsOptions,
} from './wasm-kernels.js';
export {
  type GemmCall,
  type GemmPlan,
  GemmWorkerPool,
  type LocalGemm,
} from './worker-pool.js';

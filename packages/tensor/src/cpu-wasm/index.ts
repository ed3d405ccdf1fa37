// WebAssembly SIMD fast path of the CPU backend (see README.md in this folder).
export { WASM32_MAX_BYTES, WasmHeap } from './heap.js';
export {
  type KernelVariant,
  kernelBytes,
  relaxedSimdSupported,
  sharedMemorySupported,
} from './kernels.js';
export {
  createWasmMatmul,
  DEFAULT_PARALLEL_THRESHOLD_FLOPS,
  type MatmulOptions,
  type WasmMatmul,
  type WasmMatmulOptions,
} from './matmul.js';
export { type GemmCall, GemmWorkerPool } from './worker-pool.js';

// Entry point of the wasm kernels (compiled by scripts/build-wasm.mjs).

export { adamw, axpy, sumOfSquares } from './elementwise';
export { logSumExpRows, softmaxGradRows } from './softmax';
export { gemm, gemmScratchBytes } from './gemm';

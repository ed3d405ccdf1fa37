// Entry point of the wasm kernels (compiled by scripts/build-wasm.mjs).

export { adamw, axpy, binaryRows, sumOfSquares } from './elementwise';
export {
  attnProbTile,
  attnScoreGradTile,
  attnSoftmaxTile,
  geluBackward,
  geluForward,
  logSumExpRows,
  softmaxGradRows,
} from './exp-kernels';
export { gemm, gemmScratchBytes } from './gemm';
export { layerNormBackward, layerNormForward } from './norm';

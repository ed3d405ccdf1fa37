/**
 * The primitive kernels of the WebGPU backend in WGSL, by name: elementwise-kernels.ts (unary,
 * binary, where, copy, cast, fill, arange), random-kernel.ts, reduce-kernels.ts, matmul.ts and
 * index-kernels.ts (gather, scatterAdd).
 */
import { BINARY_KERNELS, UNARY_KERNELS } from '../backend.js';
import type { WebGpuKernel } from './backend.js';
import {
  arangeKernel,
  binaryKernel,
  copyKernel,
  fillKernel,
  unaryKernel,
  whereKernel,
} from './elementwise-kernels.js';
import { gatherKernel, scatterAddKernel } from './index-kernels.js';
import { matmulKernel } from './matmul.js';
import { randomKernel } from './random-kernel.js';
import { reduceKernel } from './reduce-kernels.js';

/** Every primitive kernel of the WebGPU backend, by name. */
export const primitiveKernels: Record<string, WebGpuKernel> = {
  ...Object.fromEntries(UNARY_KERNELS.map((k) => [k, unaryKernel(k)])),
  ...Object.fromEntries(BINARY_KERNELS.map((k) => [k, binaryKernel(k)])),
  sum: reduceKernel('sum'),
  max: reduceKernel('max'),
  min: reduceKernel('min'),
  argmax: reduceKernel('argmax'),
  where: whereKernel,
  copy: copyKernel,
  cast: copyKernel,
  fill: fillKernel,
  arange: arangeKernel,
  random: randomKernel,
  matmul: matmulKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
};

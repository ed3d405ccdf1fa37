// The default CPU backend: the fast kernels of fast-kernels.ts (wasm SIMD or BLAS matmul, wasm
// binary ops, optional wasm-heap storage) plus the fused routines of the CPU (GELU, LayerNorm,
// blockwise attention, the chunked vocabulary head, AdamW). Routines work on tensors, so this
// assembly sits above the Tensor class; the backend itself (fast-kernels.ts) does not know them.
import { blockwiseAttentionRoutine } from '../cpu/blockwise-attention.js';
import { type CpuBackend, createCpuBackend } from '../cpu/cpu-backend.js';
import { cpuFusedRoutines } from '../cpu/fused-routines.js';
import type { NativeRowKernels } from '../cpu-blas/provider.js';
import { platform } from '../platform/node.js';
import type { RoutineTable } from '../routine.js';
import { wasmAdamWRoutine } from './adamw-routine.js';
import { createFastCpuKernels, type FastCpuKernelOptions } from './fast-kernels.js';
import { wasmGeluRoutine } from './gelu-routine.js';
import { linearCrossEntropyRoutine } from './linear-cross-entropy.js';
import { wasmLayerNormRoutine } from './norm-routine.js';
import type { WasmKernels } from './wasm-kernels.js';

export {
  type BlasMode,
  blasProviderOf,
  type CpuProvider,
  type CpuStorage,
  cpuProvider,
  type FastCpuKernelOptions,
  type GemmMode,
  wasmElementwiseOf,
  wasmHeapBlocks,
  wasmKernelsOf,
} from './fast-kernels.js';

export interface FastCpuBackendOptions extends FastCpuKernelOptions {
  /**
   * Register the fused routines (default true): GELU and LayerNorm on the wasm SIMD kernels,
   * blockwise attention, and the chunked vocabulary head + cross-entropy (`linearCrossEntropy`,
   * no [N, V] logits tensor). The one-pass AdamW step (`adamwStep`) is registered either way.
   */
  fusedRoutines?: boolean;
  /**
   * Vocabulary head: keep up to this many bytes of [N, V] logits from forward for backward
   * (dlogits in place, no recompute: ~25% fewer head flops; tiny config: 206 MB). Default: the
   * environment variable LRW_TENSOR_KEEP_HEAD_LOGITS_BYTES, else 256 MiB; above it (and with 0)
   * the head is memory-lean and recomputes the logits in backward.
   */
  keepHeadLogitsBytes?: number;
}

function keepHeadLogits(option: number | undefined): number | undefined {
  const env = globalThis.process?.env?.LRW_TENSOR_KEEP_HEAD_LOGITS_BYTES;
  const bytes = option ?? (env ? Number(env) : undefined);
  if (bytes !== undefined && !(bytes >= 0)) {
    throw new RangeError(
      `keepHeadLogitsBytes=${env ?? option}: expected a number of bytes >= 0 ` +
        '(e.g. 268435456 for 256 MiB, the default; 0 recomputes the logits in backward)',
    );
  }
  return bytes;
}

/**
 * A CPU backend whose `matmul` runs on the wasm SIMD gemm (both cores for products above
 * ~1 MFLOP) or the native BLAS, with fused GELU, LayerNorm, attention, linearCrossEntropy and
 * AdamW routines. Every other kernel is the reference one. Throws where wasm SIMD is unavailable;
 * `createDefaultCpuBackend` falls back to the reference backend instead.
 */
export function createFastCpuBackend(options: FastCpuBackendOptions = {}): CpuBackend {
  const { fusedRoutines, keepHeadLogitsBytes: keepOption, routines, ...kernelOptions } = options;
  const keepHeadLogitsBytes = keepHeadLogits(keepOption);
  const { backend, mm, ew, blas } = createFastCpuKernels(kernelOptions);
  // With a native gemm (OpenBLAS or the addon's own), the addon's AVX2 row kernels (exp-bound:
  // GELU, the head's log-sum-exp and softmax gradient, attention's score tiles) replace the wasm
  // ones; the rest stays on `ew`.
  const rows = withNativeRows(ew, blas?.rows);
  const rowsMm = withNativeRows(mm, blas?.rows);
  const fused: RoutineTable =
    fusedRoutines === false
      ? {}
      : {
          ...cpuFusedRoutines,
          gelu: wasmGeluRoutine(rows),
          layerNorm: wasmLayerNormRoutine(ew),
          scaledDotProductAttention: blockwiseAttentionRoutine(blas ?? mm, { tiles: rows }),
          linearCrossEntropy: linearCrossEntropyRoutine(rowsMm, {
            gemm: blas,
            keepLogitsBytes: keepHeadLogitsBytes,
          }),
        };
  backend.registerRoutines({ adamwStep: wasmAdamWRoutine(ew), ...fused, ...routines });
  return backend;
}

/** `kernels` with the native row kernels (where given) in place of its wasm ones. */
function withNativeRows(kernels: WasmKernels, native: NativeRowKernels | undefined): WasmKernels {
  if (!native) return kernels;
  const out = Object.create(kernels) as WasmKernels;
  out.logSumExpRows = native.logSumExpRows;
  out.softmaxGradRows = native.softmaxGradRows;
  out.gelu = native.gelu;
  out.geluBackward = native.geluBackward;
  out.attentionSoftmaxTile = native.attentionSoftmaxTile;
  out.attentionProbTile = native.attentionProbTile;
  out.attentionScoreGradTile = native.attentionScoreGradTile;
  return out;
}

/** How the registry's 'cpu' backend was made (see `createDefaultCpuBackend`). */
export type CpuFlavour = 'fast' | 'reference';

/**
 * The registry's 'cpu' backend: `createFastCpuBackend()` unless the environment variable
 * `LRW_TENSOR_CPU=reference` asks for the reference kernels, or wasm SIMD is unavailable (then
 * the reference backend, silently unless `LRW_TENSOR_CPU=fast` demanded the fast one).
 */
export function createDefaultCpuBackend(
  flavour: string | undefined = globalThis.process?.env?.LRW_TENSOR_CPU,
): CpuBackend {
  if (flavour !== undefined && flavour !== '' && flavour !== 'fast' && flavour !== 'reference') {
    throw new Error(`LRW_TENSOR_CPU=${flavour}: expected 'fast' (default) or 'reference'`);
  }
  if (flavour === 'reference') return createCpuBackend();
  // a bad LRW_TENSOR_THREADS is the user's error to see, not a reason to fall back
  platform.defaultThreads();
  try {
    return createFastCpuBackend();
  } catch (error) {
    if (flavour === 'fast') throw error;
    return createCpuBackend();
  }
}

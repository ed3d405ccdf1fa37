// The default CPU backend: the reference backend with the wasm SIMD matmul swapped in, fused
// routines, and (optionally) tensor storage placed in the kernels' shared WebAssembly memory.
import type { Backend } from '../backend.js';
import { blockwiseAttentionRoutine } from '../cpu/blockwise-attention.js';
import {
  type CpuBackend,
  type CpuBackendOptions,
  type CpuBlock,
  cpuReferenceKernels,
  createCpuBackend,
} from '../cpu/cpu-backend.js';
import { cpuFusedRoutines } from '../cpu/fused-routines.js';
import { blasMatmulKernel } from '../cpu-blas/matmul-kernel.js';
import { type BlasProvider, loadBlasProvider } from '../cpu-blas/provider.js';
import { wasmBinaryKernel } from './binary-kernel.js';
import { wasmGeluRoutine } from './gelu-routine.js';
import { linearCrossEntropyRoutine } from './linear-cross-entropy.js';
import { wasmMatmulKernel } from './matmul-kernel.js';
import { wasmLayerNormRoutine } from './norm-routine.js';
import {
  createWasmKernelsSync,
  type WasmKernels,
  type WasmKernelsOptions,
} from './wasm-kernels.js';

/** Where a fast backend keeps tensor bytes. */
export type CpuStorage = 'wasm-heap' | 'array-buffer';

export interface FastCpuBackendOptions extends CpuBackendOptions {
  /** Kernels to use (default: created synchronously with `wasm` options). */
  wasmKernels?: WasmKernels;
  /** Options for the kernels created when `wasmKernels` is absent. */
  wasm?: WasmKernelsOptions;
  /**
   * 'array-buffer' (default): ordinary ArrayBuffers; each product copies its operands into the
   * kernels' memory and the result out (O(MK + KN + MN) next to O(MNK) work), no size cap.
   * 'wasm-heap': every tensor lives in the kernels' shared memory, so gemm and its workers read
   * operands in place, capped at 4 GiB in all (wasm32). Measured end to end on a transformer
   * block (bench/transformer-block.mjs), the JavaScript kernels run ~12% slower over the shared
   * buffer at C=128 and the saved copies gain ~4% at C=384, so copies are the default.
   */
  storage?: CpuStorage;
  /**
   * Register the fused routines (default true): GELU and LayerNorm on the wasm SIMD kernels,
   * blockwise attention, and the chunked vocabulary head + cross-entropy (`linearCrossEntropy`,
   * no [N, V] logits tensor).
   */
  fusedRoutines?: boolean;
  /**
   * Native BLAS for float32 matmul (the lrw_blas addon over the system's OpenBLAS, see
   * `src/cpu-blas/`): 'auto' uses it where the addon is built and the library found, else the
   * wasm gemm; 'off' never loads it; 'required' throws (naming why) without it. Default: the
   * environment variable LRW_TENSOR_BLAS (auto | off | required), else 'auto'.
   */
  blas?: BlasMode;
  /** OpenBLAS threads (process-wide; default all cores). */
  blasThreads?: number;
  /** Products below this many flops stay on the wasm gemm (default DEFAULT_BLAS_MIN_FLOPS). */
  blasMinFlops?: number;
  /**
   * Vocabulary head: keep up to this many bytes of [N, V] logits from forward for backward
   * (dlogits in place, no recompute: ~25% fewer head flops; tiny config: 206 MB). Default: the
   * environment variable LRW_TENSOR_KEEP_HEAD_LOGITS_BYTES, else 0 (memory-lean: recompute).
   */
  keepHeadLogitsBytes?: number;
}

/** Whether a fast backend uses the native BLAS (see `FastCpuBackendOptions.blas`). */
export type BlasMode = 'auto' | 'off' | 'required';

/** Which matmul path a CPU backend runs: native OpenBLAS, the wasm gemm, or the reference kernel. */
export type CpuProvider = 'openblas' | 'wasm' | 'reference';

const wasmOf = new WeakMap<Backend, WasmKernels>();
const elementwiseOf = new WeakMap<Backend, WasmKernels>();
const blasOf = new WeakMap<Backend, BlasProvider>();

/** The matmul path of `backend`: 'openblas', 'wasm' (fast backend without BLAS) or 'reference'. */
export function cpuProvider(backend: Backend): CpuProvider {
  if (blasOf.has(backend)) return 'openblas';
  return wasmOf.has(backend) ? 'wasm' : 'reference';
}

/** The native BLAS behind a fast backend's matmul, else undefined. */
export function blasProviderOf(backend: Backend): BlasProvider | undefined {
  return blasOf.get(backend);
}

function blasMode(mode: BlasMode | undefined): BlasMode {
  const m = mode ?? (globalThis.process?.env?.LRW_TENSOR_BLAS || 'auto');
  if (m !== 'auto' && m !== 'off' && m !== 'required') {
    throw new Error(
      `${mode === undefined ? 'LRW_TENSOR_BLAS' : 'blas'}=${m}: expected 'auto' (default), 'off' or 'required'`,
    );
  }
  return m;
}

/** The wasm kernels behind a backend made by `createFastCpuBackend`, else undefined. */
export function wasmKernelsOf(backend: Backend): WasmKernels | undefined {
  return wasmOf.get(backend);
}

/**
 * The wasm kernels that run a fast backend's elementwise work (binary ops, GELU, LayerNorm,
 * attention tiles, AdamW): with 'array-buffer' storage a second, single-threaded instance over a
 * private (non-shared) memory, since copying operands into and out of a SharedArrayBuffer costs
 * V8 ~2-4x more than into an ordinary one; with 'wasm-heap' storage the matmul kernels themselves.
 */
export function wasmElementwiseOf(backend: Backend): WasmKernels | undefined {
  return elementwiseOf.get(backend) ?? wasmOf.get(backend);
}

/** Blocks allocated in `mm.heap` (views over the shared memory at the block's offset). */
export function wasmHeapBlocks(mm: WasmKernels): {
  allocateBlock(bytes: number): CpuBlock;
  releaseBlock(block: CpuBlock): void;
} {
  const heap = mm.heap;
  return {
    allocateBlock(bytes) {
      const ptr = heap.allocBytes(bytes);
      const buffer = heap.memory.buffer;
      return {
        u8: new Uint8Array(buffer, ptr, bytes),
        f32: new Float32Array(buffer, ptr, bytes >>> 2),
        i32: new Int32Array(buffer, ptr, bytes >>> 2),
      };
    },
    releaseBlock(block) {
      heap.freeBytes(block.u8.byteOffset);
    },
  };
}

/**
 * A CPU backend whose `matmul` runs on the wasm SIMD gemm (both cores for products above
 * ~1 MFLOP), with fused GELU, LayerNorm and linearCrossEntropy routines. Every other kernel is the reference one. Throws where wasm SIMD is unavailable;
 * `createDefaultCpuBackend` falls back to the reference backend instead.
 */
export function createFastCpuBackend(options: FastCpuBackendOptions = {}): CpuBackend {
  const {
    wasmKernels,
    wasm,
    storage,
    fusedRoutines,
    blas: blasOption,
    blasThreads,
    blasMinFlops,
    keepHeadLogitsBytes: keepOption,
    ...cpuOptions
  } = options;
  const keepEnv = globalThis.process?.env?.LRW_TENSOR_KEEP_HEAD_LOGITS_BYTES;
  const keepHeadLogitsBytes = keepOption ?? (keepEnv ? Number(keepEnv) : undefined);
  if (keepHeadLogitsBytes !== undefined && !(keepHeadLogitsBytes >= 0)) {
    throw new RangeError(
      `keepHeadLogitsBytes=${keepEnv ?? keepOption}: expected a number of bytes >= 0 ` +
        '(e.g. 268435456 for 256 MiB; 0 recomputes the logits in backward)',
    );
  }
  const mode = blasMode(blasOption);
  let blas: BlasProvider | undefined;
  if (mode !== 'off') {
    const loaded = loadBlasProvider({ threads: blasThreads });
    if (!loaded.provider && mode === 'required') {
      throw new Error(`blas: 'required' but the native BLAS is unavailable: ${loaded.reason}`);
    }
    blas = loaded.provider;
  }
  const mm = wasmKernels ?? createWasmKernelsSync(wasm);
  const placement = storage ?? 'array-buffer';
  if (placement === 'wasm-heap' && !mm.heap.shared) {
    throw new Error(
      "storage: 'wasm-heap' needs a shared WebAssembly memory (views of a private one detach " +
        "when it grows); use storage: 'array-buffer'",
    );
  }
  // Operands are staged either way with 'array-buffer' storage: stage into a private memory.
  const ew =
    placement === 'array-buffer' && mm.heap.shared
      ? createWasmKernelsSync({ threads: 1, sharedMemory: false })
      : mm;
  const backend = createCpuBackend({
    ...(placement === 'wasm-heap' && wasmHeapBlocks(mm)),
    ...cpuOptions,
    kernels: {
      add: wasmBinaryKernel(ew, 'add', cpuReferenceKernels.add!),
      sub: wasmBinaryKernel(ew, 'sub', cpuReferenceKernels.sub!),
      mul: wasmBinaryKernel(ew, 'mul', cpuReferenceKernels.mul!),
      div: wasmBinaryKernel(ew, 'div', cpuReferenceKernels.div!),
      matmul: blas
        ? blasMatmulKernel(blas, wasmMatmulKernel(mm, cpuReferenceKernels.matmul!), {
            minFlops: blasMinFlops,
          })
        : wasmMatmulKernel(mm, cpuReferenceKernels.matmul!),
      ...cpuOptions.kernels,
    },
    routines: {
      ...(fusedRoutines !== false && {
        ...cpuFusedRoutines,
        gelu: wasmGeluRoutine(ew),
        layerNorm: wasmLayerNormRoutine(ew),
        scaledDotProductAttention: blockwiseAttentionRoutine(blas ?? mm, { tiles: ew }),
        linearCrossEntropy: linearCrossEntropyRoutine(mm, {
          gemm: blas,
          keepLogitsBytes: keepHeadLogitsBytes,
        }),
      }),
      ...cpuOptions.routines,
    },
  });
  wasmOf.set(backend, mm);
  if (ew !== mm) elementwiseOf.set(backend, ew);
  if (blas) blasOf.set(backend, blas);
  return backend;
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
  try {
    return createFastCpuBackend();
  } catch (error) {
    if (flavour === 'fast') throw error;
    return createCpuBackend();
  }
}

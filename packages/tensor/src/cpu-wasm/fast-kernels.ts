// The kernel half of the default CPU backend: the reference backend with the wasm SIMD (or native
// BLAS) matmul and wasm binary kernels swapped in, and (optionally) tensor storage placed in the
// kernels' shared WebAssembly memory. Storage and kernels only: the fused routines that make it
// the full default backend are added above the Tensor class, in fast-backend.ts.
import type { Backend } from '../backend.js';
import {
  allocateArrayBufferBlock,
  type CpuBackend,
  type CpuBackendOptions,
  type CpuBlock,
  cpuReferenceKernels,
  createCpuBackend,
} from '../cpu/cpu-backend.js';
import { blasMatmulKernel } from '../cpu-blas/matmul-kernel.js';
import {
  type BlasProvider,
  loadBlasProvider,
  loadNativeGemmProvider,
} from '../cpu-blas/provider.js';
import { wasmBinaryKernel } from './binary-kernel.js';
import { wasmMatmulKernel } from './matmul-kernel.js';
import {
  createWasmKernelsSync,
  type WasmKernels,
  type WasmKernelsOptions,
} from './wasm-kernels.js';

/** Where a fast backend keeps tensor bytes. */
export type CpuStorage = 'auto' | 'wasm-heap' | 'array-buffer';

/** Whether a fast backend uses the native BLAS (see `FastCpuKernelOptions.blas`). */
export type BlasMode = 'auto' | 'off' | 'required';

/**
 * Which matmul path a CPU backend runs: the system's OpenBLAS, the addon's own blocked sgemm
 * ('native'), the wasm gemm, or the reference kernel.
 */
export type CpuProvider = 'openblas' | 'native' | 'wasm' | 'reference';

/** Which gemm a fast backend asks for (see `FastCpuKernelOptions.gemm`). */
export type GemmMode = 'auto' | 'native';

export interface FastCpuKernelOptions extends CpuBackendOptions {
  /** Kernels to use (default: created synchronously with `wasm` options). */
  wasmKernels?: WasmKernels;
  /** Options for the kernels created when `wasmKernels` is absent. */
  wasm?: WasmKernelsOptions;
  /**
   * 'auto' (default): tensors live in the kernels' shared memory up to half its maximum (wasm32:
   * 4 GiB, `wasm.maximumMemoryBytes`), so the wasm kernels and gemm read and write them in
   * place; beyond that, new tensors go to ordinary ArrayBuffers (the kernels copy them into the
   * other half and back, as with 'array-buffer'). Without a shared memory (a browser page that
   * is not cross-origin isolated), 'array-buffer'.
   * 'wasm-heap': every tensor in the shared memory; an allocation beyond its 4 GiB throws.
   * 'array-buffer': ordinary ArrayBuffers; every wasm kernel copies its operands into the
   * kernels' memory and its result out. Measured on GPT-2 training steps (nano, micro; 2026-12-07)
   * the copies cost 5-15% of a step against 'auto'.
   */
  storage?: CpuStorage;
  /**
   * Native BLAS for float32 matmul (the lrw_blas addon over the system's OpenBLAS, see
   * `src/cpu-blas/`): 'auto' uses it where the addon is built and the library found, else the
   * addon's own native gemm (where the addon is built, OpenBLAS need not be, and the CPU has
   * AVX2 + FMA), else the wasm gemm; 'off' never loads the addon (the wasm gemm); 'required' throws
   * (naming why) without OpenBLAS. Default: the environment variable LRW_TENSOR_BLAS
   * (auto | off | required), else 'auto'.
   */
  blas?: BlasMode;
  /**
   * 'native': the addon's own blocked sgemm (native/lrw_gemm.c: AVX2 + FMA where the CPU has
   * them) even where OpenBLAS is installed; throws (naming why) where the addon is not built.
   * 'auto' (default): as `blas` says. Default: the environment variable LRW_TENSOR_GEMM
   * (auto | native), else 'auto'.
   */
  gemm?: GemmMode;
  /** OpenBLAS threads (process-wide; default all cores). The native gemm runs on one. */
  blasThreads?: number;
  /** Products below this many flops stay on the wasm gemm (default DEFAULT_BLAS_MIN_FLOPS). */
  blasMinFlops?: number;
}

/** A fast CPU backend's kernels and the wasm/BLAS instances behind them. */
export interface FastCpuKernels {
  backend: CpuBackend;
  /** The matmul kernels (and their memory, where 'wasm-heap' storage lives). */
  mm: WasmKernels;
  /** The kernels of elementwise work (see `wasmElementwiseOf`). */
  ew: WasmKernels;
  blas: BlasProvider | undefined;
}

const wasmOf = new WeakMap<Backend, WasmKernels>();
const elementwiseOf = new WeakMap<Backend, WasmKernels>();
const blasOf = new WeakMap<Backend, BlasProvider>();

/**
 * The matmul path of `backend`: 'openblas', 'native' (the addon's own gemm), 'wasm' (fast
 * backend without either) or 'reference'.
 */
export function cpuProvider(backend: Backend): CpuProvider {
  const blas = blasOf.get(backend);
  if (blas) return blas.name;
  return wasmOf.has(backend) ? 'wasm' : 'reference';
}

/** The native gemm (OpenBLAS or the addon's own) behind a fast backend's matmul, else undefined. */
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

function gemmMode(mode: GemmMode | undefined): GemmMode {
  const m = mode ?? (globalThis.process?.env?.LRW_TENSOR_GEMM || 'auto');
  if (m !== 'auto' && m !== 'native') {
    throw new Error(
      `${mode === undefined ? 'LRW_TENSOR_GEMM' : 'gemm'}=${m}: expected 'auto' (default) or 'native'`,
    );
  }
  return m;
}

/**
 * The native gemm a fast backend uses for `blas` and `gemm` modes: OpenBLAS, the addon's own
 * gemm, or none (the wasm gemm). Throws, naming the reason, where a mode demands one that is
 * unavailable.
 */
function chooseNativeGemm(
  blas: BlasMode | undefined,
  gemm: GemmMode | undefined,
  threads: number | undefined,
): BlasProvider | undefined {
  const mode = blasMode(blas);
  if (gemmMode(gemm) === 'native') {
    if (mode === 'required') {
      throw new Error(
        "blas: 'required' (OpenBLAS) and gemm: 'native' (the addon's own gemm) contradict each " +
          'other; drop one (LRW_TENSOR_BLAS / LRW_TENSOR_GEMM)',
      );
    }
    const native = loadNativeGemmProvider();
    if (!native.provider) {
      throw new Error(`gemm: 'native' but the native gemm is unavailable: ${native.reason}`);
    }
    return native.provider;
  }
  if (mode === 'off') return undefined;
  const loaded = loadBlasProvider({ threads });
  if (loaded.provider) return loaded.provider;
  if (mode === 'required') {
    throw new Error(`blas: 'required' but the native BLAS is unavailable: ${loaded.reason}`);
  }
  // The native gemm where its AVX2 + FMA kernel runs (~2x the wasm gemm); its portable kernel
  // (no FMA, 4 lanes: ~18 GFLOP/s against the wasm gemm's ~50 on x86-64) only when asked for.
  const native = loadNativeGemmProvider().provider;
  return native?.isa === 'avx2-fma' ? native : undefined;
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

/**
 * Blocks allocated in `mm.heap` (views over the shared memory at the block's offset). With
 * `overflow`, blocks fill the heap up to half its maximum, and later ones are ordinary
 * ArrayBuffer blocks: the other half stays free for the kernels to stage those operands in.
 */
export function wasmHeapBlocks(
  mm: WasmKernels,
  options: { overflow?: boolean } = {},
): {
  allocateBlock(bytes: number): CpuBlock;
  releaseBlock(block: CpuBlock): void;
} {
  const heap = mm.heap;
  const overflowAt = options.overflow ? heap.maximumBytes / 2 : undefined;
  return {
    allocateBlock(bytes) {
      const ptr =
        overflowAt === undefined ? heap.allocBytes(bytes) : heap.allocBytesBelow(bytes, overflowAt);
      if (ptr === undefined) return allocateArrayBufferBlock(bytes);
      const buffer = heap.memory.buffer;
      return {
        u8: new Uint8Array(buffer, ptr, bytes),
        f32: new Float32Array(buffer, ptr, bytes >>> 2),
        i32: new Int32Array(buffer, ptr, bytes >>> 2),
      };
    },
    releaseBlock(block) {
      if (heap.contains(block.u8)) heap.freeBytes(block.u8.byteOffset);
    },
  };
}

/**
 * A CPU backend whose `matmul` runs on the wasm SIMD gemm (both cores for products above
 * ~1 MFLOP), the native BLAS or the addon's native gemm, and whose float32 add/sub/mul/div run on wasm SIMD; every other
 * kernel is the reference one. No fused routines (see `createFastCpuBackend`). Throws where wasm
 * SIMD is unavailable.
 */
export function createFastCpuKernels(options: FastCpuKernelOptions = {}): FastCpuKernels {
  const {
    wasmKernels,
    wasm,
    storage,
    blas: blasOption,
    gemm: gemmOption,
    blasThreads,
    blasMinFlops,
    ...cpuOptions
  } = options;
  const blas = chooseNativeGemm(blasOption, gemmOption, blasThreads);
  const mm = wasmKernels ?? createWasmKernelsSync(wasm);
  const placement =
    (storage ?? 'auto') === 'auto' ? (mm.heap.shared ? 'auto' : 'array-buffer') : storage!;
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
    ...(placement !== 'array-buffer' && wasmHeapBlocks(mm, { overflow: placement === 'auto' })),
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
  });
  wasmOf.set(backend, mm);
  if (ew !== mm) elementwiseOf.set(backend, ew);
  if (blas) blasOf.set(backend, blas);
  return { backend, mm, ew, blas };
}

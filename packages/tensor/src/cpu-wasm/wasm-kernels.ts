// Public entry point of the wasm fast path: batched float32 matmul and training-step kernels
// over Float32Arrays, on one shared memory and a worker pool.

import type { GemmFn, MatmulOptions } from '../cpu/gemm.js';
import { platform } from '../platform/node.js';
import { type ElementwiseKernels, makeElementwise } from './elementwise.js';
import { WasmHeap } from './heap.js';
import {
  compileKernel,
  compileKernelSync,
  GEMM_ACCUMULATE,
  GEMM_MR,
  GEMM_NR,
  GEMM_TRANS_A,
  GEMM_TRANS_B,
  type KernelExports,
  type KernelVariant,
  relaxedSimdSupported,
  sharedMemorySupported,
} from './kernels.js';
import { wasm } from './wasm-api.js';
import { type GemmCall, type GemmPlan, GemmWorkerPool, type LocalGemm } from './worker-pool.js';

/** Products below this many flops (2*M*N*K summed over the batch) stay on the calling thread. */
export const DEFAULT_PARALLEL_THRESHOLD_FLOPS = 1 << 20;

export interface WasmKernelsOptions {
  /**
   * Threads including the caller; default: all cores (`os.availableParallelism()`) in Node, 1 in
   * a browser (the worker pool runs on node:worker_threads).
   */
  threads?: number;
  /**
   * Use the relaxed-SIMD (FMA) build. 'auto' (default) enables V8's flag when needed and falls
   * back to plain SIMD where the engine refuses; `false` always uses plain SIMD.
   */
  relaxedSimd?: boolean | 'auto';
  /** Flop count from which a call is split across threads (default 2^20, ~1 MFLOP). */
  parallelThresholdFlops?: number;
  /** Cap of the wasm memory in bytes (default and maximum 4 GiB, the wasm32 limit). */
  maximumMemoryBytes?: number;
  /**
   * Shared WebAssembly memory (default where supported): needed by the worker pool and by
   * `heap.alloc`. Without it the kernels run on one thread and copy every operand.
   */
  sharedMemory?: boolean;
}

export type { MatmulOptions } from '../cpu/gemm.js';

export interface WasmKernels extends ElementwiseKernels {
  /**
   * C[M,N] (+)= op(A)[M,K] x op(B)[K,N] for each batch item, row-major, returns `c`.
   * Arrays from `heap.alloc` are used in place; other Float32Arrays are copied in and out.
   */
  matmul: GemmFn<MatmulOptions, Float32Array>;
  /** Allocator over the kernels' memory, for zero-copy operands. */
  readonly heap: WasmHeap;
  /** Threads a large call uses, the caller included. */
  readonly threads: number;
  /** 'relaxed-simd' when the FMA build runs, else 'simd'. */
  readonly instructionSet: 'simd' | 'relaxed-simd';
  /** Stops the worker threads (awaits their exit); every kernel throws afterwards. */
  close(): Promise<void>;
}

function checkDim(name: string, value: number, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new RangeError(`matmul: ${name} = ${value} must be an integer >= ${min}`);
  }
}

function checkSpan(
  name: string,
  array: Float32Array,
  batch: number,
  stride: number,
  size: number,
): void {
  const need = size === 0 ? 0 : (batch - 1) * stride + size;
  if (array.length < need) {
    throw new RangeError(
      `matmul: ${name} has ${array.length} elements but batch=${batch}, stride=${stride} ` +
        `and ${size} elements per item need ${need}`,
    );
  }
}

/**
 * How a product of `rows` (= batch*M) x `n` outputs is split over `threads`, or undefined to
 * keep it on the calling thread. About 4 chunks per thread balance a busy machine. Column chunks
 * come first: each packs only its own columns of B, so nothing is packed twice (row chunks each
 * repack all of B, K*N floats, which made a 2-thread vocabulary head slower than 1 thread).
 * Row chunks serve narrow outputs (e.g. batched attention with N = 64).
 */
export function planGemm(rows: number, n: number, threads: number): GemmPlan | undefined {
  const target = 4 * threads;
  const chunkCols = Math.max(4 * GEMM_NR, Math.ceil(n / target / GEMM_NR) * GEMM_NR);
  const colChunks = Math.ceil(n / chunkCols);
  if (colChunks >= 2 * threads) return { rows, cols: n, chunkRows: rows, chunkCols };
  const chunkRows = Math.max(4 * GEMM_MR, Math.ceil(rows / target / GEMM_MR) * GEMM_MR);
  if (rows > chunkRows) return { rows, cols: n, chunkRows, chunkCols: n };
  if (colChunks >= 2) return { rows, cols: n, chunkRows: rows, chunkCols };
  return undefined;
}

interface ResolvedOptions {
  shared: boolean;
  threads: number;
  threshold: number;
  relaxed: boolean;
  variant: KernelVariant;
  maximumMemoryBytes: number | undefined;
}

function resolveOptions(options: WasmKernelsOptions): ResolvedOptions {
  const shared = options.sharedMemory ?? sharedMemorySupported();
  if (shared && !sharedMemorySupported()) {
    throw new Error(
      'sharedMemory: true, but this engine lacks shared WebAssembly memory (SharedArrayBuffer; ' +
        'browsers need cross-origin isolation); omit the option to fall back to one thread',
    );
  }
  if (!shared && options.threads !== undefined && options.threads > 1) {
    throw new RangeError(`threads = ${options.threads} needs shared memory; use threads: 1`);
  }
  const threads = shared ? (options.threads ?? platform.defaultThreads()) : 1;
  checkDim('threads', threads, 1);
  if (threads > 1 && !platform.workerThreads) {
    throw new RangeError(
      `threads = ${threads}, but this environment has no worker threads (the pool runs on ` +
        'node:worker_threads, absent in a browser); use threads: 1',
    );
  }
  const threshold = options.parallelThresholdFlops ?? DEFAULT_PARALLEL_THRESHOLD_FLOPS;
  if (!(threshold >= 0)) {
    throw new RangeError(`parallelThresholdFlops ${threshold} must be >= 0`);
  }
  const wantRelaxed = options.relaxedSimd ?? 'auto';
  const relaxed = wantRelaxed !== false && relaxedSimdSupported(true);
  if (wantRelaxed === true && !relaxed) {
    throw new Error(
      'relaxedSimd: true, but this engine rejects relaxed SIMD; pass "auto" or false',
    );
  }
  const variant: KernelVariant = relaxed
    ? shared
      ? 'relaxedShared'
      : 'relaxed'
    : shared
      ? 'simdShared'
      : 'simd';
  return {
    shared,
    threads,
    threshold,
    relaxed,
    variant,
    maximumMemoryBytes: options.maximumMemoryBytes,
  };
}

function makeHeap(cfg: ResolvedOptions): WasmHeap {
  return new WasmHeap({
    shared: cfg.shared,
    ...(cfg.maximumMemoryBytes !== undefined && { maximumBytes: cfg.maximumMemoryBytes }),
  });
}

/** Creates the wasm SIMD kernels with their memory and (where threads > 1) a worker pool. */
export async function createWasmKernels(options: WasmKernelsOptions = {}): Promise<WasmKernels> {
  const cfg = resolveOptions(options);
  const module = await compileKernel(cfg.variant);
  const heap = makeHeap(cfg);
  const instance = await wasm.instantiate(module, { env: { memory: heap.memory } });
  const kernel = instance.exports as unknown as KernelExports;
  const scratch = scratchBlocks(kernel, heap, cfg.threads);
  const pool =
    cfg.threads > 1
      ? await GemmWorkerPool.create(module, heap.memory, scratch.slice(1))
      : undefined;
  return assemble(cfg, kernel, heap, scratch, {
    get: () => pool,
    close: async () => pool?.close(),
  });
}

/**
 * `createWasmKernels` without awaiting: compiles and instantiates synchronously (Node allows
 * `new WebAssembly.Module` for any size), so a backend can use it from a plain `import`. The
 * worker pool starts on the first product above the parallel threshold (blocking tens of ms
 * while the workers boot), so processes that never multiply large matrices start no threads.
 * Results do not depend on the thread count (bit-identical).
 */
export function createWasmKernelsSync(options: WasmKernelsOptions = {}): WasmKernels {
  const cfg = resolveOptions(options);
  const module = compileKernelSync(cfg.variant);
  const heap = makeHeap(cfg);
  const instance = new wasm.Instance(module, { env: { memory: heap.memory } });
  const kernel = instance.exports as unknown as KernelExports;
  const scratch = scratchBlocks(kernel, heap, cfg.threads);
  let pool: GemmWorkerPool | undefined;
  let tried = false;
  return assemble(cfg, kernel, heap, scratch, {
    get: () => {
      if (!tried && cfg.threads > 1) {
        tried = true;
        try {
          pool = GemmWorkerPool.createSync(module, heap.memory, scratch.slice(1));
        } catch {
          // No worker_threads here (e.g. a restricted sandbox): stay on one thread.
        }
      }
      return pool;
    },
    close: async () => {
      tried = true;
      await pool?.close();
    },
  });
}

function scratchBlocks(kernel: KernelExports, heap: WasmHeap, threads: number): number[] {
  const bytes = kernel.gemmScratchBytes();
  return Array.from({ length: threads }, () => heap.allocBytes(bytes));
}

function assemble(
  cfg: ResolvedOptions,
  kernel: KernelExports,
  heap: WasmHeap,
  scratch: number[],
  pools: { get(): GemmWorkerPool | undefined; close(): Promise<void> },
): WasmKernels {
  const { threads, threshold, relaxed } = cfg;
  const localGemm: LocalGemm = (call, row0, row1, col0, col1) =>
    kernel.gemm(...call, row0, row1, col0, col1, scratch[0]!);

  // Staging blocks for operands that live outside the heap, reused across calls.
  const staging: { ptr: number; bytes: number }[] = [0, 1, 2, 3, 4, 5, 6].map(() => ({
    ptr: 0,
    bytes: 0,
  }));
  const stage = (slot: number, bytes: number): number => {
    const s = staging[slot]!;
    if (s.bytes < bytes) {
      if (s.bytes > 0) heap.freeBytes(s.ptr);
      s.ptr = heap.allocBytes(bytes);
      s.bytes = bytes;
    }
    return s.ptr;
  };
  let closed = false;

  const matmul: GemmFn<MatmulOptions, Float32Array> = (a, b, c, m, n, k, opts = {}) => {
    if (closed) throw new Error('matmul called after close()');
    checkDim('m', m, 0);
    checkDim('n', n, 0);
    checkDim('k', k, 0);
    const batch = opts.batch ?? 1;
    checkDim('batch', batch, 1);
    const strideA = opts.strideA ?? m * k;
    const strideB = opts.strideB ?? k * n;
    const strideC = opts.strideC ?? m * n;
    checkDim('strideA', strideA, 0);
    checkDim('strideB', strideB, 0);
    checkDim('strideC', strideC, batch > 1 ? m * n : 0);
    checkSpan('a', a, batch, strideA, m * k);
    checkSpan('b', b, batch, strideB, k * n);
    checkSpan('c', c, batch, strideC, m * n);
    if (m === 0 || n === 0) return c;
    const spanA = (batch - 1) * strideA + m * k;
    const spanB = (batch - 1) * strideB + k * n;
    const spanC = (batch - 1) * strideC + m * n;

    const inA = heap.contains(a);
    const inB = heap.contains(b);
    const inC = heap.contains(c);
    const pa = inA ? a.byteOffset : stage(0, spanA * 4);
    const pb = inB ? b.byteOffset : stage(1, spanB * 4);
    const pc = inC ? c.byteOffset : stage(2, spanC * 4);
    // Staging may have grown the memory: take views only now.
    if (!inA) heap.f32(pa, spanA).set(a.subarray(0, spanA));
    if (!inB) heap.f32(pb, spanB).set(b.subarray(0, spanB));
    // C is copied in when its old values matter: accumulating, or gaps between batch items.
    if (!inC && (opts.accumulate || (batch > 1 && strideC !== m * n))) {
      heap.f32(pc, spanC).set(c.subarray(0, spanC));
    }

    const flags =
      (opts.transA ? GEMM_TRANS_A : 0) |
      (opts.transB ? GEMM_TRANS_B : 0) |
      (opts.accumulate ? GEMM_ACCUMULATE : 0);
    const rows = batch * m;
    const flops = 2 * batch * m * n * k;
    const pool = threads > 1 && flops >= threshold ? pools.get() : undefined;
    const plan = pool ? planGemm(rows, n, threads) : undefined;
    if (pool && plan) {
      const call: GemmCall = [pa, pb, pc, m, n, k, flags, batch, strideA, strideB, strideC];
      pool.run(call, plan, localGemm);
    } else {
      kernel.gemm(
        pa,
        pb,
        pc,
        m,
        n,
        k,
        flags,
        batch,
        strideA,
        strideB,
        strideC,
        0,
        rows,
        0,
        n,
        scratch[0]!,
      );
    }
    if (!inC) c.set(heap.f32(pc, spanC));
    return c;
  };

  return {
    matmul,
    ...makeElementwise({
      kernel,
      heap,
      stage,
      assertOpen(op) {
        if (closed) throw new Error(`${op} called after close()`);
      },
    }),
    heap,
    threads,
    instructionSet: relaxed ? 'relaxed-simd' : 'simd',
    async close() {
      closed = true;
      await pools.close();
    },
  };
}

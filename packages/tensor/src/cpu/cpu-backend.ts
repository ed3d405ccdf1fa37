/**
 * The CPU reference backend: buffers are ArrayBuffers (pooled by exact byte size), kernels are
 * plain TypeScript over typed arrays and live in the backend's kernel table (`KernelBackend`) so
 * a faster implementation of any one kernel (wasm SIMD, BLAS, a worker pool) swaps in with
 * `registerKernel` without touching ops or autograd.
 */
import type { BackendMemory, Buf, KernelFn, KernelName, TensorView } from '../backend.js';
import { BufferPool } from '../buffer-pool.js';
import type { DType } from '../dtype.js';
import { KernelBackend } from '../kernel-backend.js';
import type { RoutineTable } from '../routine.js';
import { elementwiseKernels } from './elementwise-kernels.js';
import { gatherKernel, scatterAddKernel } from './index-kernels.js';
import { matmulKernel } from './matmul-kernel.js';
import { reduceKernels } from './reduce-kernels.js';

export type NumArray = Float32Array | Int32Array;

/** Kernels that also run on float16/bfloat16 storage (conversions and copies). */
const HALF_STORAGE_KERNELS = new Set<string>(['copy', 'cast']);

/**
 * A CPU kernel for kernel `K`: reads its inputs and writes its output through `cpu.array(view)`;
 * `call.attrs` is typed by `K` (see `KernelAttrs`).
 */
export type CpuKernel<K extends KernelName = KernelName> = KernelFn<CpuBackend, K>;

/**
 * Memory plus its typed-array views over the same bytes, created once and pooled together (views
 * cost GC time). The views may sit at any offset of a larger buffer, e.g. a shared
 * `WebAssembly.Memory` so that wasm kernels and worker threads use tensor storage in place.
 */
export interface CpuBlock {
  readonly u8: Uint8Array;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  /** float16/bfloat16 bits (made on first use when the allocator leaves it out). */
  u16?: Uint16Array;
}

/** Plain ArrayBuffer-backed storage (the default allocator). */
export function allocateArrayBufferBlock(bytes: number): CpuBlock {
  const data = new ArrayBuffer(bytes);
  return { u8: new Uint8Array(data), f32: new Float32Array(data), i32: new Int32Array(data) };
}

/** A handle to a block; a fresh handle per allocation, so a stale handle is detected as freed. */
interface CpuBuf extends Buf {
  readonly block: CpuBlock;
  freed: boolean;
}

/** The reference kernels, the living definition every faster CPU kernel is tested against. */
export const cpuReferenceKernels: Readonly<Record<string, CpuKernel>> = {
  ...elementwiseKernels,
  ...reduceKernels,
  matmul: matmulKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
};

export interface CpuBackendOptions {
  /** Name under which the backend reports itself (default 'cpu'). */
  name?: string;
  /** Kernels replacing the reference ones, by name. */
  kernels?: Record<string, CpuKernel>;
  /** Fused routines by composite op name (typed by `RoutineAttrs`). */
  routines?: RoutineTable;
  /** Most bytes kept in the free pool (default 1 GiB); beyond it freed buffers are dropped. */
  maxPooledBytes?: number;
  /**
   * Where storage comes from (default: one ArrayBuffer per block). A fast path can place every
   * tensor in a shared WebAssembly.Memory; blocks must be 4-byte aligned and at least `bytes` long.
   */
  allocateBlock?: (bytes: number) => CpuBlock;
  /** Returns a block that leaves the pool (pool full or `emptyPool()`). */
  releaseBlock?: (block: CpuBlock) => void;
}

export class CpuBackend extends KernelBackend<CpuBackend> {
  readonly name: string;
  private readonly pool: BufferPool<CpuBlock>;
  private readonly allocateBlock: (bytes: number) => CpuBlock;
  private readonly releaseBlock: ((block: CpuBlock) => void) | undefined;

  constructor(options: CpuBackendOptions = {}) {
    super();
    this.name = options.name ?? 'cpu';
    this.pool = new BufferPool(options.maxPooledBytes ?? 2 ** 30);
    this.allocateBlock = options.allocateBlock ?? allocateArrayBufferBlock;
    this.releaseBlock = options.releaseBlock;
    this.registerKernels(cpuReferenceKernels);
    this.registerKernels(options.kernels ?? {});
    this.registerRoutines(options.routines ?? {});
  }

  protected acceptsDType(kernel: KernelName, dtype: DType): boolean {
    return dtype === 'float32' || dtype === 'int32' || HALF_STORAGE_KERNELS.has(kernel);
  }

  protected unsupportedHint(missing: boolean): string {
    return missing
      ? 'no kernel registered'
      : 'the CPU backend computes in float32 and int32 (half precision is storage only); cast to float32 first';
  }

  alloc(bytes: number): Buf {
    const size = Math.ceil(bytes / 4) * 4;
    const block = this.pool.acquire(size, () => this.allocateBlock(size));
    const buf: CpuBuf = { byteLength: size, block, freed: false };
    return buf;
  }

  free(buf: Buf): void {
    const b = this.own(buf, 'free');
    b.freed = true;
    if (!this.pool.release(b.block, b.byteLength)) this.releaseBlock?.(b.block);
  }

  write(buf: Buf, src: ArrayBufferView, byteOffset = 0): void {
    const b = this.own(buf, 'write');
    if (byteOffset + src.byteLength > b.byteLength) {
      throw new RangeError(
        `cpu.write: ${src.byteLength} bytes at offset ${byteOffset} overflow a ${b.byteLength}-byte buffer`,
      );
    }
    b.block.u8.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), byteOffset);
  }

  readSync(buf: Buf, byteOffset = 0, byteLength?: number): ArrayBuffer {
    const b = this.own(buf, 'read');
    const len = byteLength ?? b.byteLength - byteOffset;
    const u8 = b.block.u8;
    const start = u8.byteOffset + byteOffset;
    if (u8.buffer instanceof ArrayBuffer) return u8.buffer.slice(start, start + len);
    // Storage in a shared WebAssembly memory: hand out a private copy, never the shared buffer.
    const copy = new ArrayBuffer(len);
    new Uint8Array(copy).set(new Uint8Array(u8.buffer, start, len));
    return copy;
  }

  readSyncInto(buf: Buf, dst: Uint8Array, byteOffset = 0): void {
    const b = this.own(buf, 'read');
    if (byteOffset + dst.byteLength > b.byteLength) {
      throw new RangeError(
        `cpu.readSyncInto: ${dst.byteLength} bytes at offset ${byteOffset} overflow a ${b.byteLength}-byte buffer`,
      );
    }
    dst.set(b.block.u8.subarray(byteOffset, byteOffset + dst.byteLength));
  }

  read(buf: Buf, byteOffset = 0, byteLength?: number): Promise<ArrayBuffer> {
    return Promise.resolve(this.readSync(buf, byteOffset, byteLength));
  }

  /** The raw 16-bit words behind a float16/bfloat16 view, for storage kernels. */
  halfBits(view: TensorView): Uint16Array {
    const b = (view.buf as CpuBuf).block;
    if (!b.u16) b.u16 = new Uint16Array(b.u8.buffer, b.u8.byteOffset, b.u8.byteLength >>> 1);
    return b.u16;
  }

  /** The typed array behind a view (Float32Array or Int32Array by dtype), for kernels. */
  array(view: TensorView): NumArray {
    const b = (view.buf as CpuBuf).block;
    return view.dtype === 'int32' ? b.i32 : b.f32;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  memory(): BackendMemory {
    return this.pool.memory();
  }

  emptyPool(): void {
    this.pool.clear(this.releaseBlock);
  }

  private own(buf: Buf, where: string): CpuBuf {
    const b = buf as CpuBuf;
    if (!b.block?.u8) {
      throw new TypeError(`cpu.${where}: buffer does not belong to a CPU backend`);
    }
    if (b.freed) throw new Error(`cpu.${where}: buffer was already freed`);
    return b;
  }
}

/** A fresh CPU backend (the registry's 'cpu' entry is one of these). */
export function createCpuBackend(options?: CpuBackendOptions): CpuBackend {
  return new CpuBackend(options);
}

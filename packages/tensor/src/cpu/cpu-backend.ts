/**
 * The CPU reference backend: buffers are ArrayBuffers (pooled by exact byte size), kernels are
 * plain TypeScript over typed arrays and live in a per-backend registry so a faster
 * implementation of any one kernel (wasm SIMD, BLAS, a worker pool) swaps in with
 * `registerKernel` without touching ops or autograd.
 */
import type {
  Backend,
  BackendMemory,
  Buf,
  KernelCall,
  KernelName,
  Routine,
  TensorView,
} from '../backend.js';
import { BufferPool } from '../buffer-pool.js';
import type { DType } from '../dtype.js';
import { UnsupportedOpError } from '../errors.js';
import { elementwiseKernels } from './elementwise-kernels.js';
import { gatherKernel, scatterAddKernel } from './index-kernels.js';
import { matmulKernel } from './matmul-kernel.js';
import { reduceKernels } from './reduce-kernels.js';

export type NumArray = Float32Array | Int32Array;

/** Kernels that also run on float16/bfloat16 storage (conversions and copies). */
const HALF_STORAGE_KERNELS = new Set<string>(['copy', 'cast']);

/** A CPU kernel: reads its inputs and writes its output through `cpu.array(view)`. */
export type CpuKernel = (call: KernelCall, cpu: CpuBackend) => void;

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
  /** Fused routines by composite op name. */
  routines?: Record<string, Routine>;
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

export class CpuBackend implements Backend {
  readonly name: string;
  private readonly kernels = new Map<string, CpuKernel>();
  private readonly routines = new Map<string, Routine>();
  private readonly pool: BufferPool<CpuBlock>;
  private readonly allocateBlock: (bytes: number) => CpuBlock;
  private readonly releaseBlock: ((block: CpuBlock) => void) | undefined;

  constructor(options: CpuBackendOptions = {}) {
    this.name = options.name ?? 'cpu';
    this.pool = new BufferPool(options.maxPooledBytes ?? 2 ** 30);
    this.allocateBlock = options.allocateBlock ?? allocateArrayBufferBlock;
    this.releaseBlock = options.releaseBlock;
    for (const [k, v] of Object.entries(cpuReferenceKernels)) this.kernels.set(k, v);
    for (const [k, v] of Object.entries(options.kernels ?? {})) this.kernels.set(k, v);
    for (const [k, v] of Object.entries(options.routines ?? {})) this.routines.set(k, v);
  }

  /** Replaces (or adds) the implementation of one kernel. */
  registerKernel(name: KernelName, kernel: CpuKernel): void {
    this.kernels.set(name, kernel);
  }

  /** The implementation currently registered for `name`. */
  kernel(name: KernelName): CpuKernel | undefined {
    return this.kernels.get(name);
  }

  /** Adds (or with `undefined`, removes) a fused routine for a composite op. */
  registerRoutine(op: string, routine: Routine | undefined): void {
    if (routine) this.routines.set(op, routine);
    else this.routines.delete(op);
  }

  routine(op: string): Routine | undefined {
    return this.routines.get(op);
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

  read(buf: Buf, byteOffset = 0, byteLength?: number): Promise<ArrayBuffer> {
    return Promise.resolve(this.readSync(buf, byteOffset, byteLength));
  }

  supports(kernel: KernelName, dtype: DType): boolean {
    if (!this.kernels.has(kernel)) return false;
    return dtype === 'float32' || dtype === 'int32' || HALF_STORAGE_KERNELS.has(kernel);
  }

  run(call: KernelCall): void {
    const k = this.kernels.get(call.kernel);
    const halfOk = HALF_STORAGE_KERNELS.has(call.kernel);
    const bad = [call.output, ...call.inputs].find(
      (v) => v.dtype !== 'float32' && v.dtype !== 'int32' && !halfOk,
    );
    if (!k || bad) {
      throw new UnsupportedOpError(
        call.kernel,
        bad?.dtype ?? call.output.dtype,
        this.name,
        k
          ? 'the CPU backend computes in float32 and int32 (half precision is storage only); cast to float32 first'
          : 'no kernel registered',
      );
    }
    k(call, this);
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

/**
 * The CUDA backend: device buffers from a caching allocator (size classes, exact `memory()`),
 * kernels launched in order on one non-blocking stream (so a freed buffer goes straight back to
 * the pool: later users are ordered after its last use), matmuls through cuBLAS on the same
 * stream, writes staged through pinned memory, and async reads (a device-to-host copy into a
 * pinned staging buffer, then an event polled without blocking the event loop).
 *
 * For data parallelism over NCCL later, `devicePointer(buf)` and `stream` expose what a
 * collective needs to reduce gradients in place on the device.
 */
import type {
  BackendMemory,
  Buf,
  KernelCall,
  KernelFn,
  KernelName,
  TensorView,
} from '../backend.js';
import { BufferPool } from '../buffer-pool.js';
import type { DType } from '../dtype.js';
import { KernelBackend } from '../kernel-backend.js';
import type { Cublas } from './cublas.js';
import type { Driver } from './driver.js';
import { CU } from './driver.js';
import type { Koffi, NativePointer } from './ffi.js';
import { Args } from './params.js';

/** A device buffer handle; a fresh handle per allocation so a stale one is detected as freed. */
export interface CudaBuf extends Buf {
  /** Device address of the block. */
  readonly ptr: number;
  /** Size class (bytes of the block). */
  readonly capacity: number;
  freed: boolean;
}

/** A primitive kernel: turns a call into launches through the backend's helpers. */
/** A CUDA kernel for kernel `K` (attrs typed by `K`): enqueues launches on the backend's stream. */
export type CudaKernel<K extends KernelName = KernelName> = KernelFn<CudaBackend, K>;

/** Device-side error codes written by kernels that validate indices (read back with data). */
export const ERROR_CODES: Record<number, string> = {
  1: 'gather: an index is outside the table rows',
  2: 'scatterAdd: an index is outside the target rows',
  3: 'crossEntropy: a target is outside the vocabulary (use ignoreIndex for tokens without a target)',
};

/** Pool size classes: 256-byte steps up to 4 KiB, then four steps per power of two (<= 25% slack). */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  if (b <= 4096) return b;
  const step = 2 ** Math.floor(Math.log2(b)) / 4;
  return Math.ceil(b / step) * step;
}

const MIB = 1024 * 1024;
const fmt = (b: number) => (b >= MIB ? `${(b / MIB).toFixed(1)} MiB` : `${b} bytes`);
/** Bytes of the pinned upload ring (two halves used alternately). */
const UPLOAD_BYTES = 8 * MIB;
/** Writes up to this size go through the pinned ring; larger ones straight from JS memory. */
const UPLOAD_INLINE = 1 * MIB;
/** Bytes of the native launch-parameter arena (the kernels' structs are < 1 KiB). */
const ARENA_BYTES = 4096;

export interface CudaDevice {
  ordinal: number;
  name: string;
  /** Compute capability as major * 10 + minor (e.g. 90). */
  computeCapability: number;
  multiprocessors: number;
  totalMemory: number;
  /** Most dynamic shared memory a block may opt into. */
  maxSharedOptin: number;
}

export interface CudaBackendInit {
  name: string;
  koffi: Koffi;
  driver: Driver;
  device: CudaDevice;
  context: NativePointer;
  stream: NativePointer;
  module: NativePointer;
  kernelNames: readonly string[];
  kernelOrigin: string;
  cublas: Cublas;
  maxPooledBytes: number;
  tf32: boolean;
}

export class CudaBackend extends KernelBackend<CudaBackend> {
  readonly name: string;
  readonly koffi: Koffi;
  readonly driver: Driver;
  readonly device: CudaDevice;
  readonly stream: NativePointer;
  readonly cublas: Cublas;
  /** How the kernels got here ('nvcc', 'nvrtc', 'nvrtc-cache'). */
  readonly kernelOrigin: string;
  /** Launches so far (tests and benchmarks), in all and per kernel. */
  launches = 0;
  readonly launchCounts = new Map<string, number>();
  /** Logits floats per chunk of the fused vocabulary head (bounds its memory: 256 MiB). */
  headChunkFloats = 1 << 26;
  private readonly context: NativePointer;
  private readonly module: NativePointer;
  private readonly kernelNames: Set<string>;
  private readonly functions = new Map<string, { fn: NativePointer; smem: number }>();
  private readonly pool: BufferPool<number>;
  private readonly args: Args;
  private readonly arena: NativePointer;
  private readonly extra: NativePointer;
  private readonly sizeWord: BigUint64Array;
  private readonly errorPtr: number;
  private readonly upload: NativePointer;
  private readonly uploadView: Uint8Array;
  private readonly uploadAddress: number;
  private uploadPos = 0;
  private readonly uploadDone: [NativePointer, NativePointer];
  private readonly stagingPool = new Map<number, NativePointer[]>();
  private readonly events: NativePointer[] = [];
  private tf32: boolean;
  private destroyed = false;

  constructor(init: CudaBackendInit) {
    super();
    this.name = init.name;
    this.koffi = init.koffi;
    this.driver = init.driver;
    this.device = init.device;
    this.context = init.context;
    this.stream = init.stream;
    this.module = init.module;
    this.kernelNames = new Set(init.kernelNames);
    this.kernelOrigin = init.kernelOrigin;
    this.cublas = init.cublas;
    this.tf32 = init.tf32;
    this.cublas.setTf32(init.tf32);
    this.pool = new BufferPool(init.maxPooledBytes);
    // Launch parameters go through cuLaunchKernel's `extra`: {BUFFER_POINTER, arena,
    // BUFFER_SIZE, &size, END}; the driver copies the arena at launch, so one arena serves all.
    this.arena = init.koffi.alloc('uint8_t', ARENA_BYTES);
    this.args = new Args(init.koffi.view(this.arena, ARENA_BYTES));
    this.extra = init.koffi.alloc('uint64_t', 6);
    const extra = new BigUint64Array(init.koffi.view(this.extra, 48));
    extra[0] = 1n;
    extra[1] = init.koffi.address(this.arena);
    extra[2] = 2n;
    extra[3] = init.koffi.address(this.extra) + 40n;
    extra[4] = 0n;
    this.sizeWord = extra.subarray(5, 6);
    const err = this.driver.tryAlloc(256);
    this.driver.check(err.code, 'cuMemAlloc_v2');
    this.errorPtr = err.ptr;
    this.driver.memsetD32(this.errorPtr, 0, 4, this.stream);
    this.upload = this.driver.allocHost(UPLOAD_BYTES);
    this.uploadAddress = Number(init.koffi.address(this.upload));
    this.uploadView = new Uint8Array(init.koffi.view(this.upload, UPLOAD_BYTES));
    this.uploadDone = [this.event(), this.event()];
    this.driver.record(this.uploadDone[0], this.stream);
    this.driver.record(this.uploadDone[1], this.stream);
  }

  // ---- registration (kernels and routines: KernelBackend) -------------------------------------

  /** TF32 tensor-core matmuls (about 10 bits of mantissa in the products) instead of fp32. */
  setTf32(on: boolean): void {
    this.cublas.setTf32(on);
    this.tf32 = on;
  }

  get tf32Enabled(): boolean {
    return this.tf32;
  }

  // ---- buffers --------------------------------------------------------------------------------

  alloc(bytes: number): Buf {
    this.checkAlive('alloc');
    const cls = sizeClass(bytes);
    const ptr = this.pool.acquire(cls, () => this.deviceAlloc(cls));
    const buf: CudaBuf = { byteLength: Math.ceil(bytes / 4) * 4, ptr, capacity: cls, freed: false };
    return buf;
  }

  private deviceAlloc(bytes: number): number {
    let r = this.driver.tryAlloc(bytes);
    if (r.code === CU.ERROR_OUT_OF_MEMORY) {
      // Cached blocks first: free them (after the stream drains) and try again.
      this.emptyPool();
      r = this.driver.tryAlloc(bytes);
    }
    if (r.code === CU.ERROR_OUT_OF_MEMORY) {
      const m = this.pool.memory();
      const info = this.driver.memInfo();
      throw new RangeError(
        `${this.name}.alloc: out of GPU memory allocating ${fmt(bytes)} (tensors hold ${fmt(m.bytes)} in ` +
          `${m.buffers} buffers; the device has ${fmt(info.free)} free of ${fmt(info.total)}); use a smaller ` +
          'batch or sequence length, gradient accumulation, or dispose tensors that are no longer needed',
      );
    }
    return r.ptr;
  }

  free(buf: Buf): void {
    const b = this.own(buf, 'free');
    b.freed = true;
    if (!this.pool.release(b.ptr, b.capacity)) {
      // Not kept: kernels still queued may use it, so drain the stream before cuMemFree.
      this.driver.streamSynchronize(this.stream);
      this.driver.free(b.ptr);
    }
  }

  /** Device address of a buffer (for collectives such as NCCL that work in place). */
  devicePointer(buf: Buf): number {
    return this.own(buf, 'devicePointer').ptr;
  }

  write(buf: Buf, src: ArrayBufferView, byteOffset = 0): void {
    const b = this.own(buf, 'write');
    const n = src.byteLength;
    if (byteOffset < 0 || byteOffset + n > b.capacity) {
      throw new RangeError(
        `${this.name}.write: ${n} bytes at offset ${byteOffset} overflow a ${b.byteLength}-byte buffer`,
      );
    }
    if (n === 0) return;
    const bytes = new Uint8Array(src.buffer, src.byteOffset, n);
    if (n > UPLOAD_INLINE) {
      // From pageable memory the driver stages the bytes before returning, so `src` may change.
      this.driver.copyHtoD(b.ptr + byteOffset, bytes, n, this.stream);
      return;
    }
    const half = UPLOAD_BYTES / 2;
    const h = this.uploadPos < half ? 0 : 1;
    if (Math.floor((this.uploadPos + n - 1) / half) !== h || this.uploadPos + n > UPLOAD_BYTES) {
      // Switch halves: mark the one left, and wait until the copies out of the other are done.
      this.driver.record(this.uploadDone[h]!, this.stream);
      this.driver.eventSynchronize(this.uploadDone[1 - h]!);
      this.uploadPos = h === 0 ? half : 0;
    }
    this.uploadView.set(bytes, this.uploadPos);
    this.driver.copyHtoDFrom(
      b.ptr + byteOffset,
      this.uploadAddress + this.uploadPos,
      n,
      this.stream,
    );
    this.uploadPos += Math.ceil(n / 16) * 16;
  }

  /** A pinned staging block of `cls` bytes (pooled) with its host address. */
  private staging(cls: number): { ptr: NativePointer; address: number } {
    const ptr = this.stagingPool.get(cls)?.pop() ?? this.driver.allocHost(cls);
    return { ptr, address: Number(this.koffi.address(ptr)) };
  }

  private releaseStaging(cls: number, ptr: NativePointer): void {
    let list = this.stagingPool.get(cls);
    if (!list) this.stagingPool.set(cls, (list = []));
    list.push(ptr);
  }

  async read(buf: Buf, byteOffset = 0, byteLength?: number): Promise<ArrayBuffer> {
    const b = this.own(buf, 'read');
    const len = byteLength ?? b.byteLength - byteOffset;
    if (byteOffset < 0 || len < 0 || byteOffset + len > b.capacity) {
      throw new RangeError(
        `${this.name}.read: ${len} bytes at offset ${byteOffset} outside a ${b.byteLength}-byte buffer`,
      );
    }
    const cls = sizeClass(len + 16);
    const st = this.staging(cls);
    try {
      if (len > 0) this.driver.copyDtoHInto(st.address, b.ptr + byteOffset, len, this.stream);
      this.driver.copyDtoHInto(st.address + cls - 16, this.errorPtr, 16, this.stream);
      await this.drain();
      const view = new Uint8Array(this.koffi.view(st.ptr, cls));
      const out = view.slice(0, len).buffer;
      this.checkErrors(new Int32Array(view.slice(cls - 16, cls).buffer));
      return out;
    } finally {
      this.releaseStaging(cls, st.ptr);
    }
  }

  private checkErrors(err: Int32Array): void {
    if (err[0] === 0) return;
    this.driver.memsetD32(this.errorPtr, 0, 4, this.stream);
    const what = ERROR_CODES[err[0]!] ?? `kernel error code ${err[0]}`;
    throw new RangeError(
      `${this.name}: ${what} (value ${err[1]} at position ${err[2]}), detected on the device by a kernel ` +
        'enqueued before this read; the result of that kernel is unspecified. Check indices and targets first',
    );
  }

  private event(): NativePointer {
    return this.events.pop() ?? this.driver.createEvent();
  }

  /** Resolves once everything enqueued so far has run (polls an event; never blocks the loop). */
  private async drain(): Promise<void> {
    const ev = this.event();
    try {
      this.driver.record(ev, this.stream);
      let spins = 0;
      while (!this.driver.query(ev)) {
        await new Promise<void>((r) => (spins++ < 64 ? setImmediate(r) : setTimeout(r, 1)));
      }
    } finally {
      this.events.push(ev);
    }
  }

  protected acceptsDType(_kernel: KernelName, dtype: DType): boolean {
    return dtype === 'float32' || dtype === 'int32';
  }

  protected unsupportedHint(missing: boolean): string {
    return missing
      ? 'no CUDA kernel registered'
      : 'the CUDA backend computes and stores float32 and int32; cast half-precision tensors to float32 first';
  }

  override run<K extends KernelName>(call: KernelCall<K>): void {
    this.checkAlive(call.kernel);
    super.run(call);
  }

  async sync(): Promise<void> {
    this.checkAlive('sync');
    const st = this.staging(256);
    try {
      this.driver.copyDtoHInto(st.address, this.errorPtr, 16, this.stream);
      await this.drain();
      this.checkErrors(new Int32Array(this.koffi.view(st.ptr, 16).slice(0)));
    } finally {
      this.releaseStaging(256, st.ptr);
    }
  }

  memory(): BackendMemory {
    return this.pool.memory();
  }

  emptyPool(): void {
    this.driver.streamSynchronize(this.stream);
    this.pool.clear((ptr) => this.driver.free(ptr));
    for (const list of this.stagingPool.values()) for (const p of list) this.driver.freeHost(p);
    this.stagingPool.clear();
  }

  /** Releases every buffer, the stream and the context. The backend is unusable afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.emptyPool();
    this.cublas.destroy();
    this.driver.free(this.errorPtr);
    this.driver.freeHost(this.upload);
    for (const e of [...this.events, ...this.uploadDone]) this.driver.destroyEvent(e);
    this.driver.unloadModule(this.module);
    this.driver.destroyStream(this.stream);
    this.driver.releasePrimaryContext(this.device.ordinal);
    this.koffi.free(this.arena);
    this.koffi.free(this.extra);
    this.destroyed = true;
    void this.context;
  }

  // ---- launching ------------------------------------------------------------------------------

  /** Device address of a view's buffer (checked: belongs here, alive). */
  ptr(view: TensorView | Buf, where = 'kernel'): number {
    const buf = 'buf' in view ? view.buf : view;
    return this.own(buf, where).ptr;
  }

  /** Device address of the 16-byte error flag (code, value, position). */
  get errorFlag(): number {
    return this.errorPtr;
  }

  hasKernel(name: string): boolean {
    return this.kernelNames.has(name);
  }

  private fn(name: string, smem: number): NativePointer {
    let f = this.functions.get(name);
    if (!f) {
      if (!this.kernelNames.has(name))
        throw new Error(`${this.name}: kernel ${name} is not in the loaded module`);
      f = { fn: this.driver.getFunction(this.module, name), smem: 48 * 1024 };
      this.functions.set(name, f);
    }
    if (smem > f.smem) {
      if (smem > this.device.maxSharedOptin) {
        throw new RangeError(
          `${name}: needs ${smem} bytes of shared memory per block, the GPU allows ${this.device.maxSharedOptin}`,
        );
      }
      this.driver.setMaxDynamicShared(f.fn, smem);
      f.smem = smem;
    }
    return f.fn;
  }

  /**
   * Launches kernel `name` on the stream: `grid` blocks of `block` threads, `smem` bytes of
   * dynamic shared memory, its parameter struct written by `pack`.
   */
  launch(
    name: string,
    grid: readonly [number, number, number],
    block: number,
    pack: (a: Args) => void,
    smem = 0,
  ): void {
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    if (grid[0] > 2147483647 || grid[1] > 65535 || grid[2] > 65535) {
      throw new RangeError(
        `${name}: grid ${grid.join('x')} exceeds CUDA's limits (2^31-1 x 65535 x 65535); split the tensor`,
      );
    }
    const f = this.fn(name, smem);
    pack(this.args.reset());
    this.sizeWord[0] = BigInt(this.args.bytes);
    this.driver.launch(f, grid, [block, 1, 1], smem, this.stream, this.extra, name);
    this.launches++;
    this.launchCounts.set(name, (this.launchCounts.get(name) ?? 0) + 1);
  }

  /** A 1-D grid-stride launch over `n` items, 256 threads per block. */
  launch1d(name: string, n: number, pack: (a: Args) => void): void {
    if (n === 0) return;
    if (n >= 2 ** 31) {
      throw new RangeError(
        `${name}: ${n} elements; the CUDA kernels index with 32 bits (at most 2^31 - 1 elements per launch)`,
      );
    }
    this.launch(name, [Math.min(Math.ceil(n / 256), 1 << 20), 1, 1], 256, pack);
  }

  /** A row kernel over `rows` rows of `length`: a warp per row (`_w`) or a block per row (`_b`). */
  launchRows(base: string, rows: number, length: number, pack: (a: Args) => void): void {
    if (rows === 0) return;
    if (length >= 1024) this.launch(`${base}_b`, [rows, 1, 1], 256, pack);
    else this.launch(`${base}_w`, [Math.ceil(rows / 8), 1, 1], 256, pack);
  }

  /** Device-to-device copy of `bytes` (stream-ordered). */
  copyDeviceToDevice(dst: number, src: number, bytes: number): void {
    if (bytes > 0) this.driver.copyDtoD(dst, src, bytes, this.stream);
  }

  /** Sets `count` 32-bit words at `dst` to `value` (stream-ordered). */
  memset32(dst: number, value: number, count: number): void {
    if (count > 0) this.driver.memsetD32(dst, value, count, this.stream);
  }

  private checkAlive(where: string): void {
    if (this.destroyed) throw new Error(`${this.name}.${where}: the backend was destroyed`);
  }

  private own(buf: Buf, where: string): CudaBuf {
    const b = buf as CudaBuf;
    if (typeof b.ptr !== 'number')
      throw new TypeError(`${this.name}.${where}: buffer does not belong to a CUDA backend`);
    if (b.freed) throw new Error(`${this.name}.${where}: buffer was already freed`);
    return b;
  }
}

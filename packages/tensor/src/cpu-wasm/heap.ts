// A float32 allocator over one WebAssembly.Memory, so kernels read and write tensors in place.
import { type WasmMemory, wasm } from './wasm-api.js';

const PAGE = 65536;
/** wasm32 addresses 2^32 bytes at most: the hard cap on everything the fast path holds at once. */
export const WASM32_MAX_BYTES = 4 * 1024 * 1024 * 1024;
/** Allocation granule: 64 bytes keeps every buffer v128- and cache-line-aligned. */
const ALIGN = 64;
/** The first page stays unused so that pointer 0 never names a live buffer. */
const HEAP_BASE = PAGE;

/**
 * Bump allocator with exact-size free lists: training allocates the same shapes every step, so
 * a freed buffer is reused by the next request of the same size without fragmentation logic.
 * With a shared memory, views stay valid when the memory grows; with a private one, growth
 * detaches earlier views (the JS API replaces the ArrayBuffer), so `shared` memory is required
 * for `alloc`.
 */
export class WasmHeap {
  readonly memory: WasmMemory;
  readonly shared: boolean;
  readonly maximumBytes: number;
  private top = HEAP_BASE;
  private readonly freeLists = new Map<number, number[]>();
  private readonly live = new Map<number, number>();
  // Every ArrayBuffer/SharedArrayBuffer object this memory has handed out (a new one per grow).
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(options: { shared: boolean; maximumBytes?: number }) {
    const maximumBytes = options.maximumBytes ?? WASM32_MAX_BYTES;
    if (!(maximumBytes >= 2 * PAGE && maximumBytes <= WASM32_MAX_BYTES)) {
      throw new RangeError(
        `maximumBytes ${maximumBytes} must lie in [${2 * PAGE}, ${WASM32_MAX_BYTES}] ` +
          '(wasm32 addresses 4 GiB at most; larger models need the native BLAS provider)',
      );
    }
    this.shared = options.shared;
    this.maximumBytes = Math.floor(maximumBytes / PAGE) * PAGE;
    this.memory = new wasm.Memory({
      initial: 16,
      maximum: this.maximumBytes / PAGE,
      shared: options.shared,
    });
    this.buffers.add(this.memory.buffer);
  }

  /** Bytes currently reserved by the memory (grows on demand, never shrinks). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Byte offset of a fresh 64-byte-aligned block of `bytes` bytes (contents unspecified). */
  allocBytes(bytes: number): number {
    if (!(Number.isInteger(bytes) && bytes >= 0)) {
      throw new RangeError(`allocation size ${bytes} must be a non-negative integer of bytes`);
    }
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const reuse = this.freeLists.get(size);
    let ptr = reuse?.pop();
    if (ptr === undefined) {
      ptr = this.top;
      this.ensure(ptr + size);
      this.top = ptr + size;
    }
    this.live.set(ptr, size);
    return ptr;
  }

  /**
   * As `allocBytes`, but only where the block is reused from a free list or ends at or below
   * byte `limit`; else undefined (nothing allocated).
   */
  allocBytesBelow(bytes: number, limit: number): number | undefined {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    if (!this.freeLists.get(size)?.length && this.top + size > limit) return undefined;
    return this.allocBytes(bytes);
  }

  /** Returns a block from `allocBytes` (or a view from `alloc`) to the heap. */
  freeBytes(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) {
      throw new Error(`free of pointer ${ptr} that this heap did not allocate or already freed`);
    }
    this.live.delete(ptr);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(ptr);
  }

  /** A zero-filled Float32Array of `length` elements living in the wasm memory. */
  alloc(length: number): Float32Array {
    if (!this.shared) {
      throw new Error(
        'WasmHeap.alloc needs a shared memory: growth detaches views of a private one. ' +
          'Create the heap with { shared: true } or pass ordinary Float32Arrays (they are copied).',
      );
    }
    if (!(Number.isInteger(length) && length >= 0)) {
      throw new RangeError(`alloc length ${length} must be a non-negative integer`);
    }
    const ptr = this.allocBytes(length * 4);
    const view = new Float32Array(this.memory.buffer, ptr, length);
    view.fill(0);
    return view;
  }

  /** Frees a view returned by `alloc`. */
  free(view: Float32Array): void {
    if (!this.contains(view)) throw new Error('free of a Float32Array that is not in this heap');
    this.freeBytes(view.byteOffset);
  }

  /** Whether `view` lies in this heap's memory (then kernels use it without copying). */
  contains(view: ArrayBufferView): boolean {
    return this.buffers.has(view.buffer);
  }

  /** A Float32Array over [ptr, ptr + 4*length) of the current memory buffer. */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  private ensure(end: number): void {
    if (end > this.maximumBytes) {
      throw new RangeError(
        `wasm heap exhausted: needs ${end} bytes, maximum is ${this.maximumBytes} ` +
          '(wasm32 caps one memory at 4 GiB; free unused buffers or use the native BLAS provider)',
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow geometrically so repeated small allocations stay amortised O(1).
      const want = Math.min(this.maximumBytes, Math.max(end, have * 2));
      this.memory.grow(Math.ceil((want - have) / PAGE));
      this.buffers.add(this.memory.buffer);
    }
  }
}

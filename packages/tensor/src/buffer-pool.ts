// The free-list pool and the live/pooled accounting that every backend's `alloc`/`free`/
// `memory`/`emptyPool` share; what a block is (ArrayBuffer views, a GPU buffer) and how one is
// created or destroyed stays with the backend.
import type { BackendMemory } from './backend.js';

/** Blocks of type `T` pooled by size (bytes), keeping at most `maxPooledBytes` free. */
export class BufferPool<T> {
  private readonly free = new Map<number, T[]>();
  private live = 0;
  private liveBytes = 0;
  private pooledBuffers = 0;
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes: number) {}

  /** A pooled block of `size` bytes, else `create()`'s; counted live once it exists. */
  acquire(size: number, create: () => T): T {
    let block = this.free.get(size)?.pop();
    if (block) {
      this.pooledBuffers--;
      this.pooledBytes -= size;
    } else block = create();
    this.live++;
    this.liveBytes += size;
    return block;
  }

  /**
   * Takes back a live block of `size` bytes: pooled (true) while the pool stays within
   * `maxPooledBytes`, else not kept (false: the caller releases it).
   */
  release(block: T, size: number): boolean {
    this.live--;
    this.liveBytes -= size;
    if (this.pooledBytes + size > this.maxPooledBytes) return false;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(block);
    this.pooledBuffers++;
    this.pooledBytes += size;
    return true;
  }

  /** Empties the pool, handing each pooled block to `dispose` (when given). */
  clear(dispose?: (block: T) => void): void {
    if (dispose) for (const list of this.free.values()) for (const b of list) dispose(b);
    this.free.clear();
    this.pooledBuffers = 0;
    this.pooledBytes = 0;
  }

  memory(): BackendMemory {
    return {
      buffers: this.live,
      bytes: this.liveBytes,
      pooledBuffers: this.pooledBuffers,
      pooledBytes: this.pooledBytes,
    };
  }
}

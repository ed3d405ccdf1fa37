/**
 * A reference-counted backend buffer. Tensors that view the same data (reshape, slice,
 * transpose, values saved for backward) share one Storage; the buffer goes back to the backend
 * when the last of them lets go. `version` counts in-place writes so autograd can refuse to
 * differentiate through a value that changed after it was saved.
 */
import type { Backend, Buf } from './backend.js';
import { countStorage } from './engine.js';

export class Storage {
  private refs = 1;
  /** Number of in-place writes so far. */
  version = 0;

  constructor(
    readonly backend: Backend,
    readonly buf: Buf,
    readonly bytes: number,
  ) {
    countStorage(1, bytes);
  }

  /** Allocates `bytes` on `backend`. */
  static alloc(backend: Backend, bytes: number): Storage {
    return new Storage(backend, backend.alloc(bytes), bytes);
  }

  get alive(): boolean {
    return this.refs > 0;
  }

  retain(): void {
    if (this.refs <= 0) throw new Error('Storage.retain: storage was already released');
    this.refs++;
  }

  release(): void {
    if (this.refs <= 0) throw new Error('Storage.release: storage was already released');
    if (--this.refs === 0) {
      this.backend.free(this.buf);
      countStorage(-1, this.bytes);
    }
  }
}

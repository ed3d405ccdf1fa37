import type { Tensor } from '@lrw/tensor';
import type { Collective } from './collective.js';
import { assignFlatGradient } from './flat-gradient.js';

/** The default bucket size of the overlapped gradient all-reduce, in MiB (PyTorch DDP's 25 MB). */
export const DEFAULT_BUCKET_MB = 25;

/**
 * The first bucket holds at most 1 MiB (or `bucketMB`, if less), as DDP's: the last layers'
 * gradients are final first, and a small first bucket starts the communication early.
 */
export const FIRST_BUCKET_MB = 1;

/** One bucket: consecutive parameters (in reverse parameter order) summed by one call. */
interface Bucket {
  params: Tensor[];
  /** Each parameter's offset in `buffer`. */
  offsets: number[];
  /** The host copy of the bucket's gradients, handed to the collective. */
  buffer: Float32Array;
}

/**
 * The parameters' gradients summed over ranks in a few large flat buckets, overlapped with the
 * backward pass, as PyTorch's DistributedDataParallel does:
 *
 * - the parameters are split, in REVERSE parameter order, into buckets of at most `bucketMB`
 *   MiB of float32 gradients, the first of at most 1 MiB (a larger parameter gets a bucket of
 *   its own). Backward reaches the last layers first, so the first bucket fills first; the
 *   split depends only on the parameters' sizes, so it is the same on every rank;
 * - during the step's last backward, @lrw/tensor's `onLeafGradReady` reports each parameter
 *   whose gradient is final; its gradient is copied into its bucket at once, and a bucket whose
 *   parameters are all final is handed to `collective.startAllReduceSum`, which starts the sum
 *   and returns (on MPI: the addon's communication thread reduces it while backward goes on);
 * - buckets are started strictly in bucket order (a ready bucket waits for the ones before it),
 *   so every rank makes the same sequence of collective calls whatever order its hooks fire in;
 * - after backward, the buckets not started yet (parameters the last backward did not reach
 *   keep the gradient they had, or none: zeros) are started, then each bucket's sums are copied
 *   back into the `.grad`s as it arrives, in order.
 *
 * Each element is summed over the same ranks as in the one flat all-reduce, so the result is the
 * flat path's (bit-identical on 2 ranks, where a sum of two is exact in any order; with more
 * ranks MPI may add in another order for another message size, a float rounding difference).
 * Parameters without a gradient stay without one, as in the flat path.
 */
export class GradientBuckets {
  readonly buckets: readonly Bucket[];
  private readonly where = new Map<Tensor, { bucket: number; index: number }>();

  constructor(
    private readonly params: readonly Tensor[],
    bucketMB: number,
  ) {
    const capacity = Math.max(1, Math.floor((bucketMB * 1024 * 1024) / 4));
    const first = Math.min(capacity, FIRST_BUCKET_MB * 256 * 1024);
    const buckets: { params: Tensor[]; offsets: number[]; size: number }[] = [];
    let current: (typeof buckets)[number] | undefined;
    for (let i = params.length - 1; i >= 0; i--) {
      const p = params[i]!;
      const cap = buckets.length === 1 ? first : capacity;
      if (current === undefined || (current.size > 0 && current.size + p.size > cap)) {
        current = { params: [], offsets: [], size: 0 };
        buckets.push(current);
      }
      this.where.set(p, { bucket: buckets.length - 1, index: current.params.length });
      current.params.push(p);
      current.offsets.push(current.size);
      current.size += p.size;
    }
    this.buckets = buckets.map((b) => ({
      params: b.params,
      offsets: b.offsets,
      buffer: new Float32Array(b.size),
    }));
  }

  /** Whether these buckets were made for exactly `params` (the model's parameter list). */
  fits(params: readonly Tensor[]): boolean {
    return params.length === this.params.length && params.every((p, i) => p === this.params[i]);
  }

  /** One step's reduction: pass `onLeafGradReady` to the last backward, then await `finish()`. */
  start(collective: Collective): OverlappedReduction {
    return new OverlappedReduction(this.buckets, this.where, collective);
  }
}

/** The buckets of one step in flight (GradientBuckets.start). */
export class OverlappedReduction {
  private readonly copied: boolean[][];
  private readonly left: number[];
  private readonly results: Promise<Float32Array>[] = [];
  /** The next bucket to start (buckets start in order). */
  private next = 0;

  constructor(
    private readonly buckets: readonly Bucket[],
    private readonly where: Map<Tensor, { bucket: number; index: number }>,
    private readonly collective: Collective,
  ) {
    this.copied = buckets.map((b) => b.params.map(() => false));
    this.left = buckets.map((b) => b.params.length);
  }

  /** For backward's `onLeafGradReady`: copies a final gradient and starts what is ready. */
  readonly onLeafGradReady = (leaf: Tensor): void => {
    const at = this.where.get(leaf);
    if (at === undefined || at.bucket < this.next || this.copied[at.bucket]![at.index]) return;
    this.copy(at.bucket, at.index);
    while (this.next < this.buckets.length && this.left[this.next] === 0) this.launch();
  };

  /** Copies parameter `index` of bucket `b`'s gradient (zeros without one) into its buffer. */
  private copy(b: number, index: number): void {
    const bucket = this.buckets[b]!;
    const p = bucket.params[index]!;
    const offset = bucket.offsets[index]!;
    // a synchronous read, on backends with host memory (the trainer checks readSync)
    if (p.grad) p.grad.dataSyncInto(bucket.buffer.subarray(offset, offset + p.size));
    else bucket.buffer.fill(0, offset, offset + p.size);
    this.copied[b]![index] = true;
    this.left[b]!--;
  }

  private launch(): void {
    const bucket = this.buckets[this.next]!;
    const started = this.collective.startAllReduceSum!(bucket.buffer);
    // a failure is reported by finish(); until then it must not count as unhandled
    started.catch(() => {});
    this.results.push(started);
    this.next++;
  }

  /**
   * After backward: starts the buckets that are left (in order), then writes each bucket's sums
   * into the parameters' `.grad` as they arrive.
   */
  async finish(): Promise<void> {
    for (let b = this.next; b < this.buckets.length; b++) {
      this.copied[b]!.forEach((done, index) => {
        if (!done) this.copy(b, index);
      });
    }
    while (this.next < this.buckets.length) this.launch();
    for (let b = 0; b < this.buckets.length; b++) {
      const summed = await this.results[b]!;
      // a bucket lays its parameters out one after the other, as a flat gradient does
      assignFlatGradient(this.buckets[b]!.params, summed);
    }
  }
}

import { hashSeed, permutation, Xoshiro128 } from '@lrw/random';
import type { LoadedShard } from './shard-samples.js';

/** Position of one domain's sub-stream: epoch, shard (in the epoch's order) and sample. */
export interface CursorState {
  epoch: number;
  shardPos: number;
  samplePos: number;
}

/**
 * One domain's samples in a seeded order: each epoch visits the domain's shards in a
 * permutation drawn from (seed, domain, epoch), and each shard's samples in a permutation
 * drawn from (seed, domain, epoch, shard), as llm.c's loader shuffles shards and samples.
 * Only the current shard is in memory.
 */
export class DomainCursor {
  epoch = 0;
  shardPos = 0;
  samplePos = 0;
  private shardOrder: Uint32Array;
  private current: LoadedShard | null = null;
  private sampleOrder: Uint32Array | null = null;

  constructor(
    readonly domainId: number,
    /** Shard ordinals (positions in the index) of this domain and split. */
    private readonly shards: readonly number[],
    private readonly seed: number,
    private readonly shuffle: boolean,
    private readonly load: (ordinal: number) => LoadedShard,
  ) {
    this.shardOrder = this.orderOfEpoch(0);
  }

  /** The next sample of this epoch, or null when the epoch is over. */
  next(): { shard: LoadedShard; local: number } | null {
    while (this.shardPos < this.shards.length) {
      const ordinal = this.shards[this.shardOrder[this.shardPos]];
      if (this.current?.ordinal !== ordinal || this.sampleOrder === null) {
        this.current = this.load(ordinal);
        const rng = this.shuffle
          ? new Xoshiro128(hashSeed(this.seed, 'samples', this.domainId, this.epoch, ordinal))
          : null;
        this.sampleOrder = permutation(this.current.count, rng);
      }
      if (this.samplePos < this.current.count) {
        return { shard: this.current, local: this.sampleOrder[this.samplePos++] };
      }
      this.shardPos++;
      this.samplePos = 0;
      this.sampleOrder = null;
    }
    return null;
  }

  nextEpoch(): void {
    this.seek({ epoch: this.epoch + 1, shardPos: 0, samplePos: 0 });
  }

  state(): CursorState {
    return { epoch: this.epoch, shardPos: this.shardPos, samplePos: this.samplePos };
  }

  seek(state: CursorState): void {
    if (state.epoch !== this.epoch) this.shardOrder = this.orderOfEpoch(state.epoch);
    this.epoch = state.epoch;
    this.shardPos = state.shardPos;
    this.samplePos = state.samplePos;
    this.sampleOrder = null;
  }

  private orderOfEpoch(epoch: number): Uint32Array {
    const rng = this.shuffle
      ? new Xoshiro128(hashSeed(this.seed, 'shards', this.domainId, epoch))
      : null;
    return permutation(this.shards.length, rng);
  }
}

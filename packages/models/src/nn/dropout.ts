/**
 * Seeded dropout: masks come from the model's own Philox generator, so a run is reproducible
 * from its seed and the generator's `state()` belongs in a checkpoint.
 */
import type { Generator, Tensor } from '@lrw/tensor';
import { Module } from './module.js';

export class Dropout extends Module {
  constructor(
    readonly p: number,
    private readonly generator: Generator,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
  }
  /** Identity in eval mode or when p = 0 (no random numbers drawn then). */
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return x.dropout(this.p, { generator: this.generator });
  }
}

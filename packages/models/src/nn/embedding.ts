/** Token or position embedding: a (num, dim) table looked up by int32 ids. */
import { embedding, type Tensor } from '@lrw/tensor';
import type { ParamInit } from './init.js';
import { Module } from './module.js';

export class Embedding extends Module {
  readonly weight: Tensor; // (num, dim)
  constructor(
    readonly num: number,
    readonly dim: number,
    init: ParamInit,
    std = 0.02,
  ) {
    super();
    this.weight = this.param('weight', init.normal([num, dim], std));
  }

  /** ids (...) int32 -> (..., dim). */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}

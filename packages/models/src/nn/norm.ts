/** LayerNorm (GPT-2: weight and bias, eps 1e-5) and RMSNorm (Llama: weight only, eps 1e-5/1e-6). */
import { layerNorm, rmsNorm, type Tensor } from '@lrw/tensor';
import type { ParamInit } from './init.js';
import { Module } from './module.js';

export class LayerNorm extends Module {
  readonly weight: Tensor; // (C)
  readonly bias: Tensor; // (C)
  constructor(
    readonly dim: number,
    init: ParamInit,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', init.ones([dim]));
    this.bias = this.param('bias', init.zeros([dim]));
  }
  /** x (..., C) -> (..., C) */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module {
  readonly weight: Tensor; // (C)
  constructor(
    readonly dim: number,
    init: ParamInit,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', init.ones([dim]));
  }
  /** x (..., C) -> (..., C) */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

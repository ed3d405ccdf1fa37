/** Linear layer y = x W^T + b with PyTorch's weight layout (out_features, in_features). */
import { formatShape, type Tensor } from '@lrw/tensor';
import type { ParamInit } from './init.js';
import { Module } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  /** Standard deviation of the normal init (default 0.02, GPT-2's initializer_range). */
  std?: number;
}

export class Linear extends Module {
  readonly weight: Tensor; // (out, in)
  readonly bias: Tensor | null; // (out)
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    init: ParamInit,
    options: LinearOptions = {},
  ) {
    super();
    this.weight = this.param('weight', init.normal([outFeatures, inFeatures], options.std ?? 0.02));
    this.bias = (options.bias ?? true) ? this.param('bias', init.zeros([outFeatures])) : null;
  }

  /** x (..., in) -> (..., out). Flattened to one 2-D product so the backend runs one gemm. */
  forward(x: Tensor): Tensor {
    const inF = this.inFeatures;
    if (x.shape[x.rank - 1] !== inF) {
      throw new RangeError(
        `Linear: input ${formatShape(x.shape)} must end in ${inF} features (weight ${formatShape(this.weight.shape)})`,
      );
    }
    const lead = x.shape.slice(0, -1);
    let y = x.reshape([-1, inF]).matmul(this.weight.mT); // (N, out)
    if (this.bias) y = y.add(this.bias);
    return y.reshape([...lead, this.outFeatures]);
  }
}

/**
 * Feed-forward blocks. MLP: GPT-2's fc -> GELU (tanh) -> proj. SwiGLU (Shazeer 2020, "GLU
 * Variants Improve Transformer"): down(silu(gate(x)) * up(x)), Llama's MLP without biases.
 */
import type { Generator, Tensor } from '@lrw/tensor';
import { Dropout } from './dropout.js';
import type { ParamInit } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export class MLP extends Module {
  readonly fc: Linear;
  readonly proj: Linear;
  private readonly drop: Dropout | null;
  constructor(
    dim: number,
    hidden: number,
    init: ParamInit,
    options: { std?: number; projStd?: number; dropout?: number; generator?: Generator } = {},
  ) {
    super();
    this.fc = this.child('fc', new Linear(dim, hidden, init, { std: options.std }));
    this.proj = this.child(
      'proj',
      new Linear(hidden, dim, init, { std: options.projStd ?? options.std }),
    );
    // GPT-2 applies resid_pdrop after mlp.c_proj.
    this.drop =
      options.generator && options.dropout
        ? this.child('dropout', new Dropout(options.dropout, options.generator))
        : null;
  }
  /** x (B, T, C) -> (B, T, C) */
  forward(x: Tensor): Tensor {
    const y = this.proj.forward(this.fc.forward(x).gelu()); // (B, T, 4C) inside
    return this.drop ? this.drop.forward(y) : y;
  }
}

export class SwiGLU extends Module {
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;
  constructor(dim: number, hidden: number, init: ParamInit, options: { std?: number } = {}) {
    super();
    const o = { bias: false, std: options.std };
    this.gate = this.child('gate', new Linear(dim, hidden, init, o));
    this.up = this.child('up', new Linear(dim, hidden, init, o));
    this.down = this.child('down', new Linear(hidden, dim, init, o));
  }
  /** x (B, T, C) -> (B, T, C) */
  forward(x: Tensor): Tensor {
    return this.down.forward(this.gate.forward(x).silu().mul(this.up.forward(x))); // (B, T, F) inside
  }
}

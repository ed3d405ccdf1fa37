/** Pre-norm transformer block (GPT-2 and Llama): x + attn(norm1(x)), then x + mlp(norm2(x)). */
import type { Tensor } from '@lrw/tensor';
import type { CausalSelfAttention } from './attention.js';
import type { MLP, SwiGLU } from './mlp.js';
import { Module } from './module.js';
import type { LayerNorm, RMSNorm } from './norm.js';

export class TransformerBlock extends Module {
  readonly norm1: LayerNorm | RMSNorm;
  readonly attn: CausalSelfAttention;
  readonly norm2: LayerNorm | RMSNorm;
  readonly mlp: MLP | SwiGLU;
  constructor(parts: {
    norm1: LayerNorm | RMSNorm;
    attn: CausalSelfAttention;
    norm2: LayerNorm | RMSNorm;
    mlp: MLP | SwiGLU;
  }) {
    super();
    this.norm1 = this.child('norm1', parts.norm1);
    this.attn = this.child('attn', parts.attn);
    this.norm2 = this.child('norm2', parts.norm2);
    this.mlp = this.child('mlp', parts.mlp);
  }
  /** x (B, T, C) -> (B, T, C) */
  forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.norm1.forward(x)));
    return h.add(this.mlp.forward(this.norm2.forward(h)));
  }
}

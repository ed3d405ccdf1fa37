/**
 * Causal self-attention: multi-head, grouped-query (Ainslie et al. 2023: nKvHeads < nHeads,
 * query head h reads key/value head floor(h / (nHeads / nKvHeads)), as HF's repeat_kv), and
 * optional RoPE. GQA broadcasts k and v over the group axis inside the batched matmul instead
 * of copying them (B, Hkv, G, T, D) x (B, Hkv, 1, T, D).
 *
 * Legend: B batch, T time, C channels, H query heads, Hkv key/value heads, G = H / Hkv, D head size.
 */
import {
  arange,
  type Generator,
  scaledDotProductAttention,
  split,
  type Tensor,
  where,
} from '@lrw/tensor';
import { Dropout } from './dropout.js';
import type { ParamInit } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { Rope } from './rope.js';

export interface AttentionOptions {
  nHeads: number;
  /** Key/value heads (default nHeads: plain multi-head attention). */
  nKvHeads?: number;
  /** Biases on the projections (GPT-2 yes, Llama no). */
  bias: boolean;
  /** One fused q|k|v projection (GPT-2's c_attn) instead of three. */
  fusedQkv: boolean;
  rope?: Rope;
  std: number;
  /** Init std of the output projection (GPT-2 scales it by 1/sqrt(2 * layers)). */
  projStd: number;
  attnDropout: number;
  residDropout: number;
  generator: Generator;
}

export class CausalSelfAttention extends Module {
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly qkv: Linear | null = null;
  readonly q: Linear | null = null;
  readonly k: Linear | null = null;
  readonly v: Linear | null = null;
  readonly out: Linear;
  private readonly rope?: Rope;
  private readonly attnDrop: Dropout;
  private readonly residDrop: Dropout;

  constructor(
    readonly dim: number,
    init: ParamInit,
    o: AttentionOptions,
  ) {
    super();
    this.nHeads = o.nHeads;
    this.nKvHeads = o.nKvHeads ?? o.nHeads;
    if (dim % o.nHeads !== 0 || o.nHeads % this.nKvHeads !== 0) {
      throw new RangeError(
        `CausalSelfAttention: dim ${dim} must divide by nHeads ${o.nHeads}, and nHeads by nKvHeads ${this.nKvHeads}`,
      );
    }
    this.headDim = dim / o.nHeads;
    const kvDim = this.nKvHeads * this.headDim;
    const lin = { bias: o.bias, std: o.std };
    if (o.fusedQkv) {
      this.qkv = this.child('qkv', new Linear(dim, dim + 2 * kvDim, init, lin));
    } else {
      this.q = this.child('q', new Linear(dim, dim, init, lin));
      this.k = this.child('k', new Linear(dim, kvDim, init, lin));
      this.v = this.child('v', new Linear(dim, kvDim, init, lin));
    }
    this.out = this.child('out', new Linear(dim, dim, init, { bias: o.bias, std: o.projStd }));
    this.rope = o.rope;
    this.attnDrop = this.child('attn_dropout', new Dropout(o.attnDropout, o.generator));
    this.residDrop = this.child('resid_dropout', new Dropout(o.residDropout, o.generator));
  }

  /** x (B, T, C) -> (B, T, C) */
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape;
    const H = this.nHeads;
    const Hkv = this.nKvHeads;
    const D = this.headDim;
    let q: Tensor;
    let k: Tensor;
    let v: Tensor;
    if (this.qkv) {
      [q, k, v] = split(this.qkv.forward(x), [C, Hkv * D, Hkv * D], -1); // (B, T, C), (B, T, Hkv*D) x2
    } else {
      q = this.q!.forward(x);
      k = this.k!.forward(x);
      v = this.v!.forward(x);
    }
    q = q.reshape([B, T, H, D]).permute([0, 2, 1, 3]); // (B, H, T, D)
    k = k.reshape([B, T, Hkv, D]).permute([0, 2, 1, 3]); // (B, Hkv, T, D)
    v = v.reshape([B, T, Hkv, D]).permute([0, 2, 1, 3]); // (B, Hkv, T, D)
    if (this.rope) {
      q = this.rope.apply(q);
      k = this.rope.apply(k);
    }
    if (Hkv !== H) {
      q = q.reshape([B, Hkv, H / Hkv, T, D]); // (B, Hkv, G, T, D)
      k = k.unsqueeze(2); // (B, Hkv, 1, T, D)
      v = v.unsqueeze(2); // (B, Hkv, 1, T, D)
    }
    let y: Tensor;
    if (this.training && this.attnDrop.p > 0) {
      // Composed so that dropout can act on the attention probabilities (GPT-2's attn_pdrop).
      const allowed = arange(T, undefined, 1, { backend: x.backend.name })
        .reshape([1, T])
        .le(arange(T, undefined, 1, { backend: x.backend.name }).reshape([T, 1])); // (T, T)
      const scores = where(allowed, q.matmul(k.mT).mul(1 / Math.sqrt(D)), Number.NEGATIVE_INFINITY);
      y = this.attnDrop.forward(scores.softmax(-1)).matmul(v); // (..., T, D)
    } else {
      y = scaledDotProductAttention(q, k, v, { causal: true }); // (..., T, D)
    }
    y = y.reshape([B, H, T, D]).permute([0, 2, 1, 3]).reshape([B, T, C]); // (B, T, C)
    return this.residDrop.forward(this.out.forward(y));
  }
}

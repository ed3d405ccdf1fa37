/**
 * GPT-2 (Radford et al. 2019) in the nanoGPT / Hugging Face GPT2LMHeadModel layout: token +
 * learned position embeddings, pre-LayerNorm blocks with GELU (tanh) MLPs, a final LayerNorm and
 * a head tied to the token embedding. Init as GPT-2: N(0, 0.02) everywhere, residual output
 * projections (attn.out, mlp.proj) N(0, 0.02 / sqrt(2 * layers)) (GPT-2 paper, Section 2.3).
 *
 * Legend: B batch, T time, C channels (dModel), V vocabulary, L layers.
 */
import { arange, Generator, type Tensor, tidy } from '@lrw/tensor';
import { CausalLM, type ModelOptions } from './causal-lm.js';
import { type GPT2Config, resolveConfig } from './config.js';
import { CausalSelfAttention } from './nn/attention.js';
import { TransformerBlock } from './nn/block.js';
import { Dropout } from './nn/dropout.js';
import { Embedding } from './nn/embedding.js';
import { ParamInit } from './nn/init.js';
import { MLP } from './nn/mlp.js';
import { ModuleList } from './nn/module.js';
import { LayerNorm } from './nn/norm.js';

export class GPT2 extends CausalLM {
  readonly config: Required<GPT2Config>;
  readonly dropoutGenerator: Generator;
  readonly tokEmb: Embedding;
  readonly posEmb: Embedding;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly normF: LayerNorm;
  private readonly embDrop: Dropout;

  constructor(config: GPT2Config, options: ModelOptions = {}) {
    super();
    const c = resolveConfig(config);
    this.config = c;
    const seed = options.seed ?? 0;
    const init = new ParamInit(seed, options.backend);
    this.dropoutGenerator = new Generator(seed + 1);
    const std = c.initStd;
    const projStd = std / Math.sqrt(2 * c.nLayers);
    this.tokEmb = this.child('tok_emb', new Embedding(c.vocabSize, c.dModel, init, std));
    this.posEmb = this.child('pos_emb', new Embedding(c.contextLength, c.dModel, init, std));
    this.embDrop = this.child('emb_dropout', new Dropout(c.dropout, this.dropoutGenerator));
    const blocks: TransformerBlock[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      blocks.push(
        new TransformerBlock({
          norm1: new LayerNorm(c.dModel, init, c.layerNormEps),
          attn: new CausalSelfAttention(c.dModel, init, {
            nHeads: c.nHeads,
            bias: true,
            fusedQkv: true,
            std,
            projStd,
            attnDropout: c.dropout,
            residDropout: c.dropout,
            generator: this.dropoutGenerator,
          }),
          norm2: new LayerNorm(c.dModel, init, c.layerNormEps),
          mlp: new MLP(c.dModel, c.dFF, init, {
            std,
            projStd,
            dropout: c.dropout,
            generator: this.dropoutGenerator,
          }),
        }),
      );
    }
    this.blocks = this.child('blocks', new ModuleList(blocks));
    this.normF = this.child('norm_f', new LayerNorm(c.dModel, init, c.layerNormEps));
  }

  hidden(ids: Tensor): Tensor {
    const [, T] = this.checkIds(ids);
    return tidy(() => {
      const pos = arange(T, undefined, 1, { backend: ids.backend.name }); // (T)
      let x = this.tokEmb.forward(ids).add(this.posEmb.forward(pos)); // (B, T, C)
      x = this.embDrop.forward(x);
      for (const block of this.blocks.items) x = block.forward(x); // (B, T, C)
      return this.normF.forward(x); // (B, T, C)
    });
  }

  headWeight(): Tensor {
    return this.tokEmb.weight; // (V, C), tied
  }
}

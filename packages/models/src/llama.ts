/**
 * Llama (Touvron et al. 2023) in Hugging Face LlamaForCausalLM's layout: token embedding,
 * pre-RMSNorm blocks with rotary attention (grouped-query when nKvHeads < nHeads) and SwiGLU
 * MLPs, no biases, a final RMSNorm and an untied head. Init as HF: N(0, initializer_range)
 * for every matrix, norms at 1.
 *
 * Legend: B batch, T time, C channels (dModel), V vocabulary, L layers.
 */
import { Generator, type Tensor, tidy } from '@lrw/tensor';
import { CausalLM, type ModelOptions } from './causal-lm.js';
import { type LlamaConfig, resolveConfig } from './config.js';
import { CausalSelfAttention } from './nn/attention.js';
import { TransformerBlock } from './nn/block.js';
import { Embedding } from './nn/embedding.js';
import { ParamInit } from './nn/init.js';
import { Linear } from './nn/linear.js';
import { SwiGLU } from './nn/mlp.js';
import { ModuleList } from './nn/module.js';
import { RMSNorm } from './nn/norm.js';
import { Rope } from './nn/rope.js';

export class Llama extends CausalLM {
  readonly config: Required<LlamaConfig>;
  readonly dropoutGenerator: Generator;
  readonly tokEmb: Embedding;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly normF: RMSNorm;
  readonly lmHead: Linear;

  constructor(config: LlamaConfig, options: ModelOptions = {}) {
    super();
    const c = resolveConfig(config);
    this.config = c;
    const seed = options.seed ?? 0;
    const init = new ParamInit(seed, options.backend);
    this.dropoutGenerator = new Generator(seed + 1);
    const std = c.initStd;
    const rope = new Rope(c.dModel / c.nHeads, c.ropeTheta);
    this.tokEmb = this.child('tok_emb', new Embedding(c.vocabSize, c.dModel, init, std));
    const blocks: TransformerBlock[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      blocks.push(
        new TransformerBlock({
          norm1: new RMSNorm(c.dModel, init, c.rmsNormEps),
          attn: new CausalSelfAttention(c.dModel, init, {
            nHeads: c.nHeads,
            nKvHeads: c.nKvHeads,
            bias: false,
            fusedQkv: false,
            rope,
            std,
            projStd: std,
            attnDropout: c.dropout,
            residDropout: c.dropout,
            generator: this.dropoutGenerator,
          }),
          norm2: new RMSNorm(c.dModel, init, c.rmsNormEps),
          mlp: new SwiGLU(c.dModel, c.dFF, init, { std }),
        }),
      );
    }
    this.blocks = this.child('blocks', new ModuleList(blocks));
    this.normF = this.child('norm_f', new RMSNorm(c.dModel, init, c.rmsNormEps));
    this.lmHead = this.child(
      'lm_head',
      new Linear(c.dModel, c.vocabSize, init, { bias: false, std }),
    );
  }

  hidden(ids: Tensor): Tensor {
    this.checkIds(ids);
    return tidy(() => {
      let x = this.tokEmb.forward(ids); // (B, T, C)
      for (const block of this.blocks.items) x = block.forward(x); // (B, T, C)
      return this.normF.forward(x); // (B, T, C)
    });
  }

  headWeight(): Tensor {
    return this.lmHead.weight; // (V, C)
  }
}

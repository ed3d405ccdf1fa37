/**
 * GPT-2 (Radford et al. 2019) in the nanoGPT / Hugging Face GPT2LMHeadModel layout: token +
 * learned position embeddings, pre-LayerNorm blocks with GELU (tanh) MLPs, a final LayerNorm and
 * a head tied to the token embedding. Init as GPT-2: N(0, 0.02) everywhere, residual output
 * projections (attn.out, mlp.proj) N(0, 0.02 / sqrt(2 * layers)) (GPT-2 paper, Section 2.3).
 *
 * Legend: B batch, T time, C channels (dModel), V vocabulary, L layers.
 */
import { arange, Generator, type Tensor, tidy } from '@lrw/tensor';
import { type ArchitectureSpec, checkBaseConfig, withDefaults } from './architecture.js';
import { CausalLM, type ModelOptions } from './causal-lm.js';
import { CausalSelfAttention } from './nn/attention.js';
import { TransformerBlock } from './nn/block.js';
import { Dropout } from './nn/dropout.js';
import { Embedding } from './nn/embedding.js';
import { ParamInit } from './nn/init.js';
import { MLP } from './nn/mlp.js';
import { ModuleList } from './nn/module.js';
import { LayerNorm } from './nn/norm.js';

/** GPT-2 (Radford et al. 2019): learned positions, pre-LayerNorm, GELU (tanh), tied head. */
export interface GPT2Config {
  arch: 'gpt2';
  vocabSize: number;
  /** Maximum sequence length = rows of the learned position table (HF n_positions). */
  contextLength: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** MLP hidden size (default 4 * dModel, HF n_inner = null). */
  dFF?: number;
  /** Dropout on embeddings, attention probabilities and residual branches (default 0). */
  dropout?: number;
  layerNormEps?: number;
  /** Normal init std (HF initializer_range, default 0.02). */
  initStd?: number;
}

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
    const c = gpt2Architecture.resolve(config);
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

// GPT-2 stores its projections as Conv1D: weight (in, out), our Linear weight transposed.
const CONV1D = /^blocks\.\d+\.(attn\.(qkv|out)|mlp\.(fc|proj))\.weight$/;

/**
 * GPT-2 as Hugging Face's `GPT2LMHeadModel`: parameters under `transformer.` with the Conv1D
 * weights transposed; the head is tied, so `lm_head.weight` is neither written (HF drops tied
 * weights on save too) nor needed on load. Files saved from the bare `GPT2Model` (the hub's
 * `gpt2`) lack the `transformer.` prefix and carry `attn.bias` mask buffers; both are accepted.
 */
export const gpt2Architecture: ArchitectureSpec<GPT2Config, GPT2> = {
  arch: 'gpt2',
  huggingFace: { modelType: 'gpt2', className: 'GPT2LMHeadModel' },

  resolve(config) {
    checkBaseConfig(config);
    return withDefaults(config, {
      dFF: 4 * config.dModel,
      dropout: 0,
      layerNormEps: 1e-5,
      initStd: 0.02,
    });
  },

  countParameters(c) {
    const d = c.dModel;
    const ln = 2 * d;
    const attn = d * 3 * d + 3 * d + d * d + d;
    const mlp = d * c.dFF + c.dFF + c.dFF * d + d;
    const perBlock = 2 * ln + attn + mlp;
    const embedding = c.vocabSize * d + c.contextLength * d;
    const nonEmbedding = c.nLayers * perBlock + ln;
    return { total: embedding + nonEmbedding, embedding, nonEmbedding, perBlock, head: 0 };
  },

  describeShape: () => '',

  hfName(ours) {
    const name = ours
      .replace(/^tok_emb\./, 'wte.')
      .replace(/^pos_emb\./, 'wpe.')
      .replace(/^norm_f\./, 'ln_f.')
      .replace(/^blocks\.(\d+)\.norm1\./, 'h.$1.ln_1.')
      .replace(/^blocks\.(\d+)\.norm2\./, 'h.$1.ln_2.')
      .replace(/^blocks\.(\d+)\.attn\.qkv\./, 'h.$1.attn.c_attn.')
      .replace(/^blocks\.(\d+)\.attn\.out\./, 'h.$1.attn.c_proj.')
      .replace(/^blocks\.(\d+)\.mlp\.fc\./, 'h.$1.mlp.c_fc.')
      .replace(/^blocks\.(\d+)\.mlp\.proj\./, 'h.$1.mlp.c_proj.');
    return { name: `transformer.${name}`, transpose: CONV1D.test(ours) };
  },

  hfStoredName: (raw) =>
    raw.startsWith('transformer.') || raw === 'lm_head.weight' ? raw : `transformer.${raw}`,

  hfIgnorable: (name) => /(^|\.)attn\.(bias|masked_bias)$/.test(name) || name === 'lm_head.weight',

  toHuggingFaceConfig(c) {
    return {
      vocab_size: c.vocabSize,
      n_positions: c.contextLength,
      n_ctx: c.contextLength,
      n_embd: c.dModel,
      n_layer: c.nLayers,
      n_head: c.nHeads,
      n_inner: c.dFF === 4 * c.dModel ? null : c.dFF,
      activation_function: 'gelu_new',
      resid_pdrop: c.dropout,
      embd_pdrop: c.dropout,
      attn_pdrop: c.dropout,
      layer_norm_epsilon: c.layerNormEps,
      initializer_range: c.initStd,
      scale_attn_weights: true,
      tie_word_embeddings: true,
      bos_token_id: c.vocabSize - 1,
      eos_token_id: c.vocabSize - 1,
      torch_dtype: 'float32',
    };
  },

  fromHuggingFaceConfig(json, num, source) {
    const act = json.activation_function ?? 'gelu_new';
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
      throw new TypeError(
        `${source}: activation_function '${act}' is not supported; GPT2 here uses gelu_new (tanh)`,
      );
    }
    const cfg: GPT2Config = {
      arch: 'gpt2',
      vocabSize: num('vocab_size'),
      contextLength: num('n_positions'),
      dModel: num('n_embd'),
      nLayers: num('n_layer'),
      nHeads: num('n_head'),
      layerNormEps: num('layer_norm_epsilon', 1e-5),
      initStd: num('initializer_range', 0.02),
      dropout: num('resid_pdrop', 0),
    };
    if (typeof json.n_inner === 'number') cfg.dFF = json.n_inner;
    return cfg;
  },

  create: (config, options) => new GPT2(config, options),
};

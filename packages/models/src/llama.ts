/**
 * Llama (Touvron et al. 2023) in Hugging Face LlamaForCausalLM's layout: token embedding,
 * pre-RMSNorm blocks with rotary attention (grouped-query when nKvHeads < nHeads) and SwiGLU
 * MLPs, no biases, a final RMSNorm and an untied head. Init as HF: N(0, initializer_range)
 * for every matrix, norms at 1.
 *
 * Legend: B batch, T time, C channels (dModel), V vocabulary, L layers.
 */
import { Generator, type Tensor, tidy } from '@lrw/tensor';
import {
  type ArchitectureSpec,
  checkBaseConfig,
  configError,
  withDefaults,
} from './architecture.js';
import { CausalLM, type ModelOptions } from './causal-lm.js';
import { CausalSelfAttention } from './nn/attention.js';
import { TransformerBlock } from './nn/block.js';
import { Embedding } from './nn/embedding.js';
import { ParamInit } from './nn/init.js';
import { Linear } from './nn/linear.js';
import { SwiGLU } from './nn/mlp.js';
import { ModuleList } from './nn/module.js';
import { RMSNorm } from './nn/norm.js';
import { Rope } from './nn/rope.js';

/** Llama (Touvron et al. 2023): RMSNorm, RoPE, SwiGLU, grouped-query attention, untied head. */
export interface LlamaConfig {
  arch: 'llama';
  vocabSize: number;
  /** Maximum sequence length (HF max_position_embeddings; RoPE has no table to size). */
  contextLength: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads (default nHeads). */
  nKvHeads?: number;
  /** SwiGLU hidden size (default: 8/3 * dModel rounded up to a multiple of 256, as Llama). */
  dFF?: number;
  rmsNormEps?: number;
  ropeTheta?: number;
  initStd?: number;
  dropout?: number;
}

/** Llama's hidden size rule: multiple_of * ceil((8/3) d / multiple_of) (Meta's and fms' code). */
export function llamaHiddenSize(dModel: number, multipleOf = 256): number {
  return multipleOf * Math.ceil(((8 / 3) * dModel) / multipleOf);
}

export class Llama extends CausalLM {
  readonly config: Required<LlamaConfig>;
  readonly dropoutGenerator: Generator;
  readonly tokEmb: Embedding;
  readonly blocks: ModuleList<TransformerBlock>;
  readonly normF: RMSNorm;
  readonly lmHead: Linear;

  constructor(config: LlamaConfig, options: ModelOptions = {}) {
    super();
    const c = llamaArchitecture.resolve(config);
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

/** Llama as Hugging Face's `LlamaForCausalLM`: parameters under `model.`, an untied `lm_head`. */
export const llamaArchitecture: ArchitectureSpec<LlamaConfig, Llama> = {
  arch: 'llama',
  huggingFace: { modelType: 'llama', className: 'LlamaForCausalLM' },

  resolve(config) {
    checkBaseConfig(config);
    const kv = config.nKvHeads ?? config.nHeads;
    if (!Number.isInteger(kv) || kv <= 0 || config.nHeads % kv !== 0) {
      throw configError(
        config,
        'nKvHeads',
        `must be a positive divisor of nHeads (${config.nHeads})`,
      );
    }
    if ((config.dModel / config.nHeads) % 2 !== 0) {
      throw configError(config, 'dModel', 'must give an even head size for RoPE');
    }
    return withDefaults(config, {
      nKvHeads: config.nHeads,
      dFF: llamaHiddenSize(config.dModel),
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      initStd: 0.02,
      dropout: 0,
    });
  },

  countParameters(c) {
    const d = c.dModel;
    const kvDim = (d / c.nHeads) * c.nKvHeads;
    const attn = d * d + 2 * d * kvDim + d * d;
    const perBlock = 2 * d + attn + 3 * d * c.dFF;
    const embedding = c.vocabSize * d;
    const head = c.vocabSize * d;
    const nonEmbedding = c.nLayers * perBlock + d;
    return { total: embedding + nonEmbedding + head, embedding, nonEmbedding, perBlock, head };
  },

  describeShape: (c) => `, kv heads ${c.nKvHeads}`,

  hfName(ours) {
    if (ours.startsWith('lm_head.')) return { name: ours, transpose: false };
    const name = ours
      .replace(/^tok_emb\./, 'embed_tokens.')
      .replace(/^norm_f\./, 'norm.')
      .replace(/^blocks\.(\d+)\.norm1\./, 'layers.$1.input_layernorm.')
      .replace(/^blocks\.(\d+)\.norm2\./, 'layers.$1.post_attention_layernorm.')
      .replace(/^blocks\.(\d+)\.attn\.(q|k|v)\./, 'layers.$1.self_attn.$2_proj.')
      .replace(/^blocks\.(\d+)\.attn\.out\./, 'layers.$1.self_attn.o_proj.')
      .replace(/^blocks\.(\d+)\.mlp\.(gate|up|down)\./, 'layers.$1.mlp.$2_proj.');
    return { name: `model.${name}`, transpose: false };
  },

  hfStoredName: (raw) => raw,

  hfIgnorable: (name) => /rotary_emb\.inv_freq$/.test(name),

  toHuggingFaceConfig(c) {
    return {
      vocab_size: c.vocabSize,
      hidden_size: c.dModel,
      intermediate_size: c.dFF,
      num_hidden_layers: c.nLayers,
      num_attention_heads: c.nHeads,
      num_key_value_heads: c.nKvHeads,
      head_dim: c.dModel / c.nHeads,
      max_position_embeddings: c.contextLength,
      rms_norm_eps: c.rmsNormEps,
      rope_theta: c.ropeTheta,
      rope_scaling: null,
      hidden_act: 'silu',
      attention_bias: false,
      attention_dropout: c.dropout,
      mlp_bias: false,
      initializer_range: c.initStd,
      tie_word_embeddings: false,
      bos_token_id: 1,
      eos_token_id: 2,
      torch_dtype: 'float32',
    };
  },

  fromHuggingFaceConfig(json, num, source) {
    if (json.tie_word_embeddings === true) {
      throw new TypeError(
        `${source}: tie_word_embeddings = true is not supported for Llama here (untied head)`,
      );
    }
    if (json.rope_scaling) {
      throw new TypeError(
        `${source}: rope_scaling is not supported; only plain RoPE (rope_scaling null)`,
      );
    }
    const nHeads = num('num_attention_heads');
    const dModel = num('hidden_size');
    if (
      json.head_dim !== undefined &&
      json.head_dim !== null &&
      json.head_dim !== dModel / nHeads
    ) {
      throw new TypeError(
        `${source}: head_dim ${json.head_dim} != hidden_size / num_attention_heads is not supported`,
      );
    }
    return {
      arch: 'llama',
      vocabSize: num('vocab_size'),
      contextLength: num('max_position_embeddings'),
      dModel,
      nLayers: num('num_hidden_layers'),
      nHeads,
      nKvHeads: num('num_key_value_heads', nHeads),
      dFF: num('intermediate_size'),
      rmsNormEps: num('rms_norm_eps', 1e-6),
      ropeTheta: num('rope_theta', 10000),
      initStd: num('initializer_range', 0.02),
    };
  },

  create: (config, options) => new Llama(config, options),
};

/**
 * Hugging Face interchange: parameter names and layouts of `GPT2LMHeadModel` and
 * `LlamaForCausalLM`, their `config.json`, and save/load of a model folder
 * (`config.json` + `model.safetensors`) that `transformers`' `from_pretrained` reads and writes.
 *
 * GPT-2 stores its projections as Conv1D, weight (in, out) = our Linear weight transposed; its
 * head is tied, so `lm_head.weight` is not written (HF drops tied weights on save too) and is
 * ignored on load. Files saved from the bare GPT2Model (the hub's `gpt2`) lack the
 * `transformer.` prefix and carry `attn.bias` mask buffers; both are accepted.
 */
import { noGrad, type Tensor } from '@lrw/tensor';
import type { CausalLM, ModelOptions } from './causal-lm.js';
import { type GPT2Config, type LlamaConfig, type ModelConfig, resolveConfig } from './config.js';
import { GPT2 } from './gpt2.js';
import { Llama } from './llama.js';
import { join, readFile } from './platform/node.js';
import {
  decodeFloat32,
  readSafetensors,
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsInput,
  writeFileAtomic,
  writeSafetensors,
} from './safetensors.js';

/** How one of our parameters is stored under Hugging Face's name. */
export interface HfName {
  name: string;
  /** Stored transposed (GPT-2 Conv1D weights). */
  transpose: boolean;
}

const GPT2_CONV1D = /^blocks\.\d+\.(attn\.(qkv|out)|mlp\.(fc|proj))\.weight$/;

/** Hugging Face's name for one of our parameter names. */
export function hfName(arch: ModelConfig['arch'], ours: string): HfName {
  if (arch === 'gpt2') {
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
    return { name: `transformer.${name}`, transpose: GPT2_CONV1D.test(ours) };
  }
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
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** One parameter under its Hugging Face name and layout, from its host data. */
function hfEntry(
  model: CausalLM,
  ours: string,
  p: Tensor,
  data: Float32Array,
): [string, { shape: number[]; data: Float32Array }] {
  const { name, transpose } = hfName(model.config.arch, ours);
  if (transpose) {
    const [r, c] = p.shape;
    return [name, { shape: [c, r], data: transpose2d(data, r, c) }];
  }
  return [name, { shape: [...p.shape], data: Float32Array.from(data) }];
}

/**
 * The model's parameters under Hugging Face names and layouts (host copies). Synchronous:
 * host-memory backends only (`cpu`, `cpu-reference`); `toHuggingFaceStateAsync` works on every
 * backend (WebGPU).
 */
export function toHuggingFaceState(
  model: CausalLM,
): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [ours, p] of model.namedParameters()) {
    out.set(...hfEntry(model, ours, p, p.dataSync() as Float32Array));
  }
  return out;
}

/** `toHuggingFaceState` on any backend: each parameter is read with `await data()`. */
export async function toHuggingFaceStateAsync(
  model: CausalLM,
): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [ours, p] of model.namedParameters()) {
    out.set(...hfEntry(model, ours, p, (await p.data()) as Float32Array));
  }
  return out;
}

/** Names in HF files that carry no parameter of ours (buffers and the tied GPT-2 head). */
function ignorable(arch: ModelConfig['arch'], name: string): boolean {
  if (arch === 'gpt2')
    return /(^|\.)attn\.(bias|masked_bias)$/.test(name) || name === 'lm_head.weight';
  return /rotary_emb\.inv_freq$/.test(name);
}

/**
 * Loads Hugging Face-named tensors into the model (shapes checked, Conv1D transposed, F16/BF16
 * converted to float32). Every parameter must be present; unknown names are refused.
 */
export function loadHuggingFaceState(
  model: CausalLM,
  file: SafetensorsFile,
  source = 'safetensors',
): void {
  const arch = model.config.arch;
  const byHf = new Map<string, [string, Tensor, boolean]>();
  for (const [ours, p] of model.namedParameters()) {
    const { name, transpose } = hfName(arch, ours);
    byHf.set(name, [ours, p, transpose]);
  }
  const seen = new Set<string>();
  const unexpected: string[] = [];
  const values = new Map<string, Float32Array>();
  for (const [rawName, entry] of file.tensors) {
    const name =
      arch === 'gpt2' && !rawName.startsWith('transformer.') && rawName !== 'lm_head.weight'
        ? `transformer.${rawName}`
        : rawName;
    const target = byHf.get(name);
    if (!target) {
      if (!ignorable(arch, name)) unexpected.push(rawName);
      continue;
    }
    const [ours, p, transpose] = target;
    const want = transpose ? [p.shape[1], p.shape[0]] : [...p.shape];
    if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) {
      throw new SafetensorsError(
        `${source}: '${rawName}' has shape [${entry.shape}], the model's ${ours} needs [${want}]. HINT: the config.json does not match the weights`,
      );
    }
    let data = decodeFloat32(entry, rawName);
    if (transpose) data = transpose2d(data, want[0], want[1]);
    values.set(ours, data);
    seen.add(name);
  }
  const missing = [...byHf.keys()].filter((n) => !seen.has(n));
  if (missing.length || unexpected.length) {
    throw new SafetensorsError(
      `${source}: ${missing.length} missing (${missing.slice(0, 5).join(', ')}) and ${unexpected.length} unexpected (${unexpected.slice(0, 5).join(', ')}) tensors for ${arch}. HINT: the file is for another architecture or size; check config.json`,
    );
  }
  noGrad(() => model.loadStateDict(values));
}

/** `config.json` in Hugging Face's format for this config. */
export function toHuggingFaceConfig(config: ModelConfig): Record<string, unknown> {
  if (config.arch === 'gpt2') {
    const c = resolveConfig(config);
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
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
  }
  const c = resolveConfig(config);
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
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
}

/** Our config from a Hugging Face `config.json` object (GPT-2 or Llama). */
export function fromHuggingFaceConfig(
  json: Record<string, unknown>,
  source = 'config.json',
): ModelConfig {
  const num = (key: string, fallback?: number): number => {
    const v = json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new TypeError(
        `${source}: field '${key}' must be a number, got ${JSON.stringify(json[key])}`,
      );
    }
    return v;
  };
  const type = json.model_type;
  if (type === 'gpt2') {
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
  }
  if (type === 'llama') {
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
    const cfg: LlamaConfig = {
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
    return cfg;
  }
  throw new TypeError(
    `${source}: model_type ${JSON.stringify(type)} is not supported; use 'gpt2' or 'llama'`,
  );
}

/** A new (randomly initialised) model of the config's architecture. */
export function createModel(config: ModelConfig, options: ModelOptions = {}): GPT2 | Llama {
  return config.arch === 'gpt2' ? new GPT2(config, options) : new Llama(config, options);
}

export interface SaveOptions {
  /** Stored dtype (default F32). */
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** Writes `config.json` and `model.safetensors` into `dir` (created if needed), atomically each. */
export async function saveHuggingFace(
  model: CausalLM,
  dir: string,
  options: SaveOptions = {},
): Promise<void> {
  const tensors = new Map<string, SafetensorsInput>();
  for (const [name, t] of await toHuggingFaceStateAsync(model))
    tensors.set(name, { ...t, dtype: options.dtype ?? 'F32' });
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await writeFileAtomic(
    join(dir, 'config.json'),
    `${JSON.stringify(toHuggingFaceConfig(model.config), null, 2)}\n`,
  );
}

/** Builds the model described by `dir/config.json` and loads `dir/model.safetensors` into it. */
export async function loadHuggingFace(
  dir: string,
  options: ModelOptions = {},
): Promise<GPT2 | Llama> {
  const configPath = join(dir, 'config.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new Error(
      `loadHuggingFace: cannot read ${configPath} (${(e as Error).message}); the folder needs a Hugging Face config.json`,
    );
  }
  const model = createModel(fromHuggingFaceConfig(json, configPath), options);
  const weights = join(dir, 'model.safetensors');
  try {
    loadHuggingFaceState(model, await readSafetensors(weights), weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

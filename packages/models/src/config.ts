/**
 * Model configurations, the named presets, and parameter counts computed from a config alone
 * (so `describe('llama-7b')` costs nothing: no weights are allocated).
 */

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

export type ModelConfig = GPT2Config | LlamaConfig;

/** Llama's hidden size rule: multiple_of * ceil((8/3) d / multiple_of) (Meta's and fms' code). */
export function llamaHiddenSize(dModel: number, multipleOf = 256): number {
  return multipleOf * Math.ceil(((8 / 3) * dModel) / multipleOf);
}

/** The config with every optional field filled in. */
export function resolveConfig<C extends ModelConfig>(config: C): Required<C> {
  checkConfig(config);
  if (config.arch === 'gpt2') {
    return {
      dFF: 4 * config.dModel,
      dropout: 0,
      layerNormEps: 1e-5,
      initStd: 0.02,
      ...stripUndefined(config),
    } as Required<C>;
  }
  return {
    nKvHeads: config.nHeads,
    dFF: llamaHiddenSize(config.dModel),
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    initStd: 0.02,
    dropout: 0,
    ...stripUndefined(config),
  } as Required<C>;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkConfig(c: ModelConfig): void {
  const bad = (field: string, why: string) => {
    throw new RangeError(`model config: ${field} = ${JSON.stringify((c as never)[field])} ${why}`);
  };
  if (c.arch !== 'gpt2' && c.arch !== 'llama') bad('arch', "must be 'gpt2' or 'llama'");
  for (const f of ['vocabSize', 'contextLength', 'dModel', 'nLayers', 'nHeads'] as const) {
    if (!Number.isInteger(c[f]) || c[f] <= 0) bad(f, 'must be a positive integer');
  }
  if (c.dModel % c.nHeads !== 0) bad('dModel', `must be divisible by nHeads (${c.nHeads})`);
  if (c.arch === 'llama') {
    const kv = c.nKvHeads ?? c.nHeads;
    if (!Number.isInteger(kv) || kv <= 0 || c.nHeads % kv !== 0)
      bad('nKvHeads', `must be a positive divisor of nHeads (${c.nHeads})`);
    if ((c.dModel / c.nHeads) % 2 !== 0) bad('dModel', 'must give an even head size for RoPE');
  }
  if (c.dropout !== undefined && !(c.dropout >= 0 && c.dropout < 1))
    bad('dropout', 'must be in [0, 1)');
}

/**
 * Named presets. The paper's GPT-2 family (Sow et al. 2025, Section 5 / the reference code):
 * 12/24/36 layers at n_embd 768 (the paper's table prints 786 for medium; the code uses 768),
 * context 512. `gpt2` is Hugging Face's gpt2 (context 1024), whose 124,439,808 parameters are the
 * published count. Llama presets follow fms-fsdp (`llama2_1.4b`, `llama2_7b`: vocab 32000,
 * hidden 8/3 d rounded to 256) with the issue's context 8192. The CPU presets train in minutes.
 */
export const PRESETS = {
  gpt2: {
    arch: 'gpt2',
    vocabSize: 50257,
    contextLength: 1024,
    dModel: 768,
    nLayers: 12,
    nHeads: 12,
  },
  'gpt2-mini': {
    arch: 'gpt2',
    vocabSize: 50257,
    contextLength: 512,
    dModel: 768,
    nLayers: 12,
    nHeads: 12,
  },
  'gpt2-small': {
    arch: 'gpt2',
    vocabSize: 50257,
    contextLength: 512,
    dModel: 768,
    nLayers: 24,
    nHeads: 16,
  },
  'gpt2-medium': {
    arch: 'gpt2',
    vocabSize: 50257,
    contextLength: 512,
    dModel: 768,
    nLayers: 36,
    nHeads: 24,
  },
  'llama-1.4b': {
    arch: 'llama',
    vocabSize: 32000,
    contextLength: 8192,
    dModel: 2048,
    nLayers: 24,
    nHeads: 16,
  },
  'llama-7b': {
    arch: 'llama',
    vocabSize: 32000,
    contextLength: 8192,
    dModel: 4096,
    nLayers: 32,
    nHeads: 32,
  },
  // CPU-sized, for @lrw/data's byte-level tokenizer (257 ids: 256 bytes + end-of-text); with the
  // GPT-2 tokenizer the 50257-row embedding would dominate (override vocabSize to use it).
  // ~0.86M and ~10.9M parameters.
  'gpt2-nano': {
    arch: 'gpt2',
    vocabSize: 257,
    contextLength: 256,
    dModel: 128,
    nLayers: 4,
    nHeads: 4,
  },
  'gpt2-micro': {
    arch: 'gpt2',
    vocabSize: 257,
    contextLength: 512,
    dModel: 384,
    nLayers: 6,
    nHeads: 6,
  },
} as const satisfies Record<string, ModelConfig>;

export type PresetName = keyof typeof PRESETS;

/** A copy of the preset's config, with `overrides` applied (e.g. a smaller vocabulary). */
export function preset(name: PresetName, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const base = PRESETS[name] as ModelConfig | undefined;
  if (!base) {
    throw new RangeError(
      `preset: unknown name '${name}'; use one of ${Object.keys(PRESETS).join(', ')}`,
    );
  }
  return { ...base, ...overrides } as ModelConfig;
}

/** Parameter counts of a config (tied GPT-2 head counted once, as Hugging Face does). */
export interface ParameterCounts {
  total: number;
  /** Token (and, for GPT-2, position) embedding tables. */
  embedding: number;
  /** Everything but the embedding tables (and the untied head): Kaplan et al.'s N. */
  nonEmbedding: number;
  perBlock: number;
  /** Untied output head (Llama); 0 when tied (GPT-2). */
  head: number;
}

export function countParameters(config: ModelConfig): ParameterCounts {
  const c = resolveConfig(config);
  const d = c.dModel;
  if (c.arch === 'gpt2') {
    const ln = 2 * d;
    const attn = d * 3 * d + 3 * d + d * d + d;
    const mlp = d * c.dFF + c.dFF + c.dFF * d + d;
    const perBlock = 2 * ln + attn + mlp;
    const embedding = c.vocabSize * d + c.contextLength * d;
    const nonEmbedding = c.nLayers * perBlock + ln;
    return { total: embedding + nonEmbedding, embedding, nonEmbedding, perBlock, head: 0 };
  }
  const kvDim = (d / c.nHeads) * c.nKvHeads;
  const attn = d * d + 2 * d * kvDim + d * d;
  const perBlock = 2 * d + attn + 3 * d * c.dFF;
  const embedding = c.vocabSize * d;
  const head = c.vocabSize * d;
  const nonEmbedding = c.nLayers * perBlock + d;
  return { total: embedding + nonEmbedding + head, embedding, nonEmbedding, perBlock, head };
}

/** Human-readable millions/billions. */
function humanCount(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : `${(n / 1e6).toFixed(2)}M`;
}

export interface ModelDescription {
  name: string;
  config: ModelConfig;
  parameters: ParameterCounts;
  /** One line per fact, for logs. */
  text: string;
}

/** Describes a preset or config: architecture, shape and parameter counts (nothing allocated). */
export function describe(model: PresetName | ModelConfig): ModelDescription {
  const config = typeof model === 'string' ? preset(model) : model;
  const name = typeof model === 'string' ? model : config.arch;
  const c = resolveConfig(config);
  const p = countParameters(config);
  const kv = c.arch === 'llama' ? `, kv heads ${c.nKvHeads}` : '';
  const text = [
    `${name} (${c.arch}): ${c.nLayers} layers, ${c.nHeads} heads${kv}, d_model ${c.dModel}, d_ff ${c.dFF}, vocab ${c.vocabSize}, context ${c.contextLength}`,
    `parameters: ${p.total.toLocaleString('en-US')} (${humanCount(p.total)}); embedding ${p.embedding.toLocaleString('en-US')}, non-embedding ${p.nonEmbedding.toLocaleString('en-US')}, per block ${p.perBlock.toLocaleString('en-US')}${p.head ? `, head ${p.head.toLocaleString('en-US')}` : ' (head tied to the embedding)'}`,
  ].join('\n');
  return { name, config, parameters: p, text };
}

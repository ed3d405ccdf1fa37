/**
 * Model configurations, the named presets, and parameter counts computed from a config alone
 * (so `describe('llama-7b')` costs nothing: no weights are allocated). What differs between
 * architectures comes from their specs (architectures.ts).
 */
import type { ParameterCounts } from './architecture.js';
import { architecture, type ModelConfig } from './architectures.js';

export type { ParameterCounts } from './architecture.js';
export type { ArchitectureName, Model, ModelConfig } from './architectures.js';
export type { GPT2Config } from './gpt2.js';
export { type LlamaConfig, llamaHiddenSize } from './llama.js';

/** The config with every optional field filled in (the architecture's defaults). */
export function resolveConfig<C extends ModelConfig>(config: C): Required<C> {
  return architecture(config?.arch).resolve(config) as unknown as Required<C>;
}

/**
 * Named presets. The paper's GPT-2 family (Sow et al. 2025, Section 5 / the reference code):
 * 12/24/36 layers at n_embd 768 (the paper's table prints 786 for medium; the code uses 768),
 * context 512. `gpt2` is Hugging Face's gpt2 (context 1024), whose 124,439,808 parameters are the
 * published count. Llama presets follow fms-fsdp (`llama2_1.4b`, `llama2_7b`: vocab 32000,
 * hidden 8/3 d rounded to 256) with a context of 8192. The CPU presets train in minutes.
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
export function countParameters(config: ModelConfig): ParameterCounts {
  const spec = architecture(config?.arch);
  return spec.countParameters(spec.resolve(config));
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
  const spec = architecture(config?.arch);
  const c = spec.resolve(config) as Required<ModelConfig> & { dFF: number };
  const p = spec.countParameters(c);
  const text = [
    `${name} (${c.arch}): ${c.nLayers} layers, ${c.nHeads} heads${spec.describeShape(c)}, d_model ${c.dModel}, d_ff ${c.dFF}, vocab ${c.vocabSize}, context ${c.contextLength}`,
    `parameters: ${p.total.toLocaleString('en-US')} (${humanCount(p.total)}); embedding ${p.embedding.toLocaleString('en-US')}, non-embedding ${p.nonEmbedding.toLocaleString('en-US')}, per block ${p.perBlock.toLocaleString('en-US')}${p.head ? `, head ${p.head.toLocaleString('en-US')}` : ' (head tied to the embedding)'}`,
  ].join('\n');
  return { name, config, parameters: p, text };
}

/**
 * What an architecture is, once: its config fields and defaults, its parameter count, its
 * Hugging Face names and config.json, and how to build the model. Each architecture is one
 * `ArchitectureSpec` object next to its model class (gpt2.ts, llama.ts), listed once in
 * architectures.ts; config.ts and hugging-face.ts read the spec and branch on nothing.
 * CONTRIBUTING.md walks through adding one.
 */
import type { CausalLM, ModelOptions } from './causal-lm.js';

/** The fields every architecture's config has. */
export interface BaseModelConfig {
  /** Which architecture: the name of its spec in architectures.ts. */
  arch: string;
  vocabSize: number;
  /** Maximum sequence length. */
  contextLength: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Dropout probability (default 0). */
  dropout?: number;
}

/** Parameter counts of a config (a tied head counted once, as Hugging Face does). */
export interface ParameterCounts {
  total: number;
  /** Token (and, for GPT-2, position) embedding tables. */
  embedding: number;
  /** Everything but the embedding tables (and an untied head): Kaplan et al.'s N. */
  nonEmbedding: number;
  perBlock: number;
  /** Untied output head (Llama); 0 when tied (GPT-2). */
  head: number;
}

/** How one of our parameters is stored under Hugging Face's name. */
export interface HfName {
  name: string;
  /** Stored transposed (GPT-2 Conv1D weights). */
  transpose: boolean;
}

/** Reads a number field of a Hugging Face config.json, or throws naming the file and field. */
export type HfNumberField = (key: string, fallback?: number) => number;

export interface ArchitectureSpec<
  C extends BaseModelConfig = BaseModelConfig,
  M extends CausalLM = CausalLM,
> {
  /** Our name: the `arch` of its configs. */
  readonly arch: C['arch'];
  /** Hugging Face's `model_type` and model class (`architectures[0]` of config.json). */
  readonly huggingFace: { readonly modelType: string; readonly className: string };
  /** The config with every optional field filled in; throws (`configError`) on a bad field. */
  resolve(config: C): Required<C>;
  countParameters(config: Required<C>): ParameterCounts;
  /** Facts for `describe` beyond the shared ones, e.g. ', kv heads 8' (or ''). */
  describeShape(config: Required<C>): string;
  /** Hugging Face's name and layout of one of our parameter names. */
  hfName(ours: string): HfName;
  /** A stored tensor's name as `hfName` spells it (e.g. a missing prefix restored). */
  hfStoredName(raw: string): string;
  /** Names in Hugging Face files that carry no parameter of ours (buffers, a tied head). */
  hfIgnorable(name: string): boolean;
  /** config.json's fields but `architectures` and `model_type` (hugging-face.ts adds those). */
  toHuggingFaceConfig(config: Required<C>): Record<string, unknown>;
  /** Our config from config.json (`model_type` already matched); throws on what we lack. */
  fromHuggingFaceConfig(json: Record<string, unknown>, num: HfNumberField, source: string): C;
  /** A new, randomly initialised model. */
  create(config: C, options: ModelOptions): M;
}

/** The error of an invalid config field: `model config: <field> = <value> <why>`. */
export function configError(config: object, field: string, why: string): RangeError {
  const value = JSON.stringify((config as Record<string, unknown>)[field]);
  return new RangeError(`model config: ${field} = ${value} ${why}`);
}

/** Checks the fields every architecture shares. */
export function checkBaseConfig(c: BaseModelConfig): void {
  for (const f of ['vocabSize', 'contextLength', 'dModel', 'nLayers', 'nHeads'] as const) {
    if (!Number.isInteger(c[f]) || c[f] <= 0) throw configError(c, f, 'must be a positive integer');
  }
  if (c.dModel % c.nHeads !== 0) {
    throw configError(c, 'dModel', `must be divisible by nHeads (${c.nHeads})`);
  }
  if (c.dropout !== undefined && !(c.dropout >= 0 && c.dropout < 1)) {
    throw configError(c, 'dropout', 'must be in [0, 1)');
  }
}

/**
 * `defaults` (every optional field of C) overridden by the config's defined fields; an explicit
 * undefined keeps the default. The defaults' keys come first, in their order.
 */
export function withDefaults<C extends BaseModelConfig>(
  config: C,
  defaults: { [K in keyof C as undefined extends C[K] ? K : never]-?: Exclude<C[K], undefined> },
): Required<C> {
  const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  return { ...defaults, ...given } as unknown as Required<C>;
}

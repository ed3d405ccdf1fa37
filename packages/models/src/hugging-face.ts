/**
 * Hugging Face interchange: parameter names and layouts (`GPT2LMHeadModel`,
 * `LlamaForCausalLM`, ...), their `config.json`, and save/load of a model folder
 * (`config.json` + `model.safetensors`) that `transformers`' `from_pretrained` reads and writes.
 * What each architecture stores how is in its spec (see architecture.ts: `hfName`,
 * `hfStoredName`, `hfIgnorable`, the config.json fields).
 */
import { noGrad, type Tensor } from '@lrw/tensor';
import type { HfName } from './architecture.js';
import { ARCHITECTURES, architecture, type Model, type ModelConfig } from './architectures.js';
import type { CausalLM, ModelOptions } from './causal-lm.js';
import { join, readFile, writeFileAtomic } from './platform/node.js';
import {
  decodeFloat32,
  readSafetensors,
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsInput,
  writeSafetensors,
} from './safetensors.js';

export type { HfName } from './architecture.js';

/** Hugging Face's name for one of our parameter names. */
export function hfName(arch: ModelConfig['arch'], ours: string): HfName {
  return architecture(arch).hfName(ours);
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
  const spec = architecture(arch);
  const byHf = new Map<string, [string, Tensor, boolean]>();
  for (const [ours, p] of model.namedParameters()) {
    const { name, transpose } = spec.hfName(ours);
    byHf.set(name, [ours, p, transpose]);
  }
  const seen = new Set<string>();
  const unexpected: string[] = [];
  const values = new Map<string, Float32Array>();
  for (const [rawName, entry] of file.tensors) {
    const name = spec.hfStoredName(rawName);
    const target = byHf.get(name);
    if (!target) {
      if (!spec.hfIgnorable(name)) unexpected.push(rawName);
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
  const spec = architecture(config?.arch);
  const { className, modelType } = spec.huggingFace;
  return {
    architectures: [className],
    model_type: modelType,
    ...spec.toHuggingFaceConfig(spec.resolve(config)),
  };
}

/** Our config from a Hugging Face `config.json` object (any architecture of architectures.ts). */
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
  const specs = Object.values(ARCHITECTURES);
  const spec = specs.find((a) => a.huggingFace.modelType === json.model_type);
  if (!spec) {
    const known = specs.map((a) => `'${a.huggingFace.modelType}'`).join(', ');
    throw new TypeError(
      `${source}: model_type ${JSON.stringify(json.model_type)} is not supported; use one of ${known}`,
    );
  }
  return spec.fromHuggingFaceConfig(json, num, source) as ModelConfig;
}

/** A new (randomly initialised) model of the config's architecture. */
export function createModel(config: ModelConfig, options: ModelOptions = {}): Model {
  return architecture(config?.arch).create(config, options) as Model;
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
export async function loadHuggingFace(dir: string, options: ModelOptions = {}): Promise<Model> {
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

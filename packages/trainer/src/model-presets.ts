import { type ModelConfig, PRESETS, type PresetName, preset } from '@lrw/models';
import { TrainerError } from './trainer-error.js';

/**
 * Model names the trainer's `model` field accepts: the short CPU names, the benchmark's "tiny"
 * config, and every @lrw/models preset.
 *
 * - `nano`  = `gpt2-nano` (4 layers, 4 heads, d 128; 0.86M parameters with the byte tokenizer)
 * - `micro` = `gpt2-micro` (6 layers, 6 heads, d 384; 10.9M)
 * - `tiny`  = the 7.2M-parameter benchmark config: GPT-2, vocabulary 50304, 4 layers,
 *   4 heads, d 128, context 128 (the vocabulary llm.c pads 50257 to)
 */
export const TRAINER_MODELS: Record<string, ModelConfig> = {
  nano: preset('gpt2-nano'),
  micro: preset('gpt2-micro'),
  tiny: {
    arch: 'gpt2',
    vocabSize: 50304,
    contextLength: 128,
    dModel: 128,
    nLayers: 4,
    nHeads: 4,
  },
};

/**
 * The model config for `name`, fitted to the data: a vocabulary smaller than the tokenizer's
 * grows to it (the byte presets with the GPT-2 tokenizer), and a context shorter than `seqLen`
 * grows to it. A larger vocabulary (padding, as in `tiny`) is kept.
 */
export function resolveModelConfig(
  name: string,
  fit: { vocabSize?: number; seqLen?: number } = {},
): ModelConfig {
  const base =
    TRAINER_MODELS[name] ?? (Object.hasOwn(PRESETS, name) ? preset(name as PresetName) : undefined);
  if (!base) {
    throw new TrainerError(
      'invalid-config',
      `model = ${JSON.stringify(name)} is not a known model.`,
      `use one of ${[...Object.keys(TRAINER_MODELS), ...Object.keys(PRESETS)].join(', ')}.`,
    );
  }
  return {
    ...base,
    vocabSize: Math.max(base.vocabSize, fit.vocabSize ?? 0),
    contextLength: Math.max(base.contextLength, fit.seqLen ?? 0),
  };
}

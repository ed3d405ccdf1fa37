import { countParameters } from '@lrw/models';
import type { TrainerConfig } from '../config.js';
import { resolveModelConfig } from '../model-presets.js';

/**
 * What the trainer will change about the named model to fit the run, said before it starts:
 * a context shorter than --seq-len grows to it, and a vocabulary smaller than the data's
 * tokenizer grows to it (each with the parameters that adds).
 */
export function modelNotes(
  config: TrainerConfig,
  data: { vocabSize: number; tokenizer: string },
): string[] {
  const base = resolveModelConfig(config.model);
  const added = (grown: typeof base) =>
    (countParameters(grown).total - countParameters(base).total).toLocaleString('en-US');
  const notes: string[] = [];
  if (config.seqLen > base.contextLength) {
    const grown = { ...base, contextLength: config.seqLen };
    notes.push(
      `--seq-len ${config.seqLen} is longer than the context of model ${config.model} (${base.contextLength} tokens): its context grows to ${config.seqLen} (+${added(grown)} parameters).`,
    );
  }
  if (data.vocabSize > base.vocabSize) {
    const grown = { ...base, vocabSize: data.vocabSize };
    notes.push(
      `model ${config.model} has a vocabulary of ${base.vocabSize}: it grows to ${data.vocabSize} for the ${data.tokenizer} tokenizer of the data (+${added(grown)} parameters).`,
    );
  }
  return notes;
}

/** A note on temperature flags that a uniform run ignores (undefined: none given). */
export function uniformFlagsNote(
  method: TrainerConfig['method'],
  flags: { r?: number; reweightWarmup?: number },
): string | undefined {
  if (method !== 'uniform') return undefined;
  const given = [
    ...(flags.r !== undefined ? [`--r ${flags.r}`] : []),
    ...(flags.reweightWarmup !== undefined ? [`--reweight-warmup ${flags.reweightWarmup}`] : []),
  ];
  if (given.length === 0) return undefined;
  return `${given.join(' and ')} ${given.length > 1 ? 'have' : 'has'} no effect with method uniform (every sample weighs the same): ignored; choose a reweighting method with --method to use ${given.length > 1 ? 'them' : 'it'}.`;
}

import type { ModelConfig } from '@lrw/models';
import type { TemperatureConfig, TrainerConfig } from './config.js';
import { TrainerError } from './trainer-error.js';

/**
 * What a checkpoint must share with the run that resumes it, and what may change.
 *
 * A resume may change the learning-rate schedule (`lr`: a lower rate after the step guard
 * stopped a run), the temperature's `r` (not the kind or the warm-up of its schedule), the step
 * guard, the run length, the evaluation, checkpoint, backend and all-reduce settings, and the number of
 * data-parallel ranks with `batchSize` (per rank) so that the global batch (batchSize x world
 * size) stays the checkpoint's: the same rows are drawn however they are split. Every other field
 * shapes the samples, the model or the objective, and must be the checkpoint's; so must the data
 * (its tokenizer and content) and the resolved model. Each field that changes is returned, to be
 * recorded in the run's history.
 */
export const RESUME_OVERRIDES = [
  'lr',
  'temperature.r',
  'guard',
  'steps',
  'gradClip',
  'evalInterval',
  'checkpointInterval',
  'keepCheckpoints',
  'backend',
  'allReduce',
  'outputDir',
  'batchSize (with the world size, keeping the global batch)',
] as const;

const FIXED = [
  'model',
  'seqLen',
  'gradAccumulation',
  'accumulationNormalization',
  'method',
  'optimizer',
  'domainWeights',
  'domainReweighting',
  'seed',
] as const;

/** The data a run trains on, recorded in its checkpoints. */
export interface DataIdentity {
  /** @lrw/data's dataset id: a checksum of the shard names and contents. */
  id: string;
  tokenizer: string;
  vocabSize: number;
  /** Where it was when the checkpoint was written (for messages). */
  dir?: string;
}

export type ConfigChanges = Record<string, { from: unknown; to: unknown }>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function mismatch(message: string, hint?: string): TrainerError {
  return new TrainerError(
    'checkpoint-mismatch',
    message,
    hint ??
      "resume with the run's own config (its config.json), or start a new run in a new output directory.",
  );
}

/** The temperature with every `r` taken out (what must not change on resume). */
function shapeOfTemperature(t: TemperatureConfig | undefined): unknown {
  if (t === undefined) return undefined;
  const { r: _r, ...rest } = t as TemperatureConfig & { r?: number };
  if (rest.kind !== 'plain-mean-warmup') return rest;
  const { r: _then, ...then } = rest.then as typeof rest.then & { r?: number };
  return { ...rest, then };
}

function describe(data: DataIdentity): string {
  return `${data.dir ?? 'a dataset'} (tokenizer ${data.tokenizer}, vocabulary ${data.vocabSize}, dataset id ${data.id})`;
}

/** Throws a TrainerError when the data the run trains on is not the checkpoint's. */
export function checkSameData(
  saved: DataIdentity | undefined,
  now: DataIdentity | undefined,
): void {
  if (saved === undefined || now === undefined) return;
  if (saved.tokenizer !== now.tokenizer || saved.vocabSize !== now.vocabSize) {
    throw mismatch(
      `The checkpoint was trained on data tokenized with ${saved.tokenizer} (vocabulary ${saved.vocabSize}), from ${saved.dir ?? 'another dataset'}; this run's data is tokenized with ${now.tokenizer} (vocabulary ${now.vocabSize}), from ${now.dir ?? 'another dataset'}.`,
      `resume on the dataset the run was trained on${saved.dir ? ` (${saved.dir})` : ''}, or start a new run in a new output directory.`,
    );
  }
  if (saved.id !== now.id) {
    throw mismatch(
      `The checkpoint was trained on ${describe(saved)}; this run's data is ${describe(now)}: the same tokenizer, but other shards (prepared from other sources or options), so the data position in the checkpoint means nothing here.`,
      `resume on the dataset the run was trained on${saved.dir ? ` (${saved.dir})` : ''}, or start a new run in a new output directory.`,
    );
  }
}

/** Throws when the model built for this run is not the checkpoint's (e.g. another vocabulary). */
export function checkSameModel(saved: ModelConfig | undefined, now: ModelConfig): void {
  if (saved === undefined) return;
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])] as (keyof ModelConfig)[];
  const differing = keys.filter((k) => !same(saved[k], now[k]));
  if (differing.length === 0) return;
  const shown = differing
    .map(
      (k) => `${k} ${JSON.stringify(saved[k])} in the checkpoint, ${JSON.stringify(now[k])} here`,
    )
    .join('; ');
  const vocab = differing.includes('vocabSize')
    ? ' The vocabulary follows the data: this run reads data of another tokenizer than the checkpoint.'
    : '';
  throw mismatch(`The checkpoint's model differs from this run's: ${shown}.${vocab}`);
}

/**
 * Checks `config` against the checkpoint's `saved` config: throws on a field that may not
 * change, and returns the fields that do (RESUME_OVERRIDES).
 */
export function resumeChanges(
  config: TrainerConfig,
  saved: TrainerConfig | undefined,
  world: { worldSize: number; savedWorldSize: number } = { worldSize: 1, savedWorldSize: 1 },
): ConfigChanges {
  if (saved === undefined || typeof saved !== 'object') return {};
  const { worldSize, savedWorldSize } = world;
  const globalNow = config.batchSize * worldSize;
  const globalSaved = saved.batchSize * savedWorldSize;
  if (globalNow !== globalSaved) {
    const fits = globalSaved % worldSize === 0;
    throw mismatch(
      `The checkpoint was written with a global batch of ${globalSaved} samples (batchSize ${saved.batchSize} x ${savedWorldSize} rank${savedWorldSize === 1 ? '' : 's'}); this run has ${globalNow} (batchSize ${config.batchSize} x ${worldSize} rank${worldSize === 1 ? '' : 's'}).`,
      fits
        ? `resume with --batch-size ${globalSaved / worldSize} on ${worldSize} rank${worldSize === 1 ? '' : 's'} (batchSize is per rank; the global batch must stay ${globalSaved}).`
        : `resume on a number of ranks that divides the global batch of ${globalSaved} (batchSize is per rank), e.g. ${savedWorldSize} rank${savedWorldSize === 1 ? '' : 's'} with --batch-size ${saved.batchSize}.`,
    );
  }
  for (const key of FIXED) {
    if (!same(config[key], saved[key])) {
      throw mismatch(
        `The checkpoint was written with ${key} = ${JSON.stringify(saved[key])}; this run has ${JSON.stringify(config[key])}.`,
        `resume with the run's own config (its config.json); on resume only ${RESUME_OVERRIDES.join(', ')} may change.`,
      );
    }
  }
  if (!same(shapeOfTemperature(config.temperature), shapeOfTemperature(saved.temperature))) {
    throw mismatch(
      `The checkpoint was written with temperature = ${JSON.stringify(saved.temperature)}; this run has ${JSON.stringify(config.temperature)}: only its r may change on resume.`,
    );
  }
  const changes: ConfigChanges = {};
  if (worldSize !== savedWorldSize) changes.worldSize = { from: savedWorldSize, to: worldSize };
  for (const key of Object.keys({ ...saved, ...config }) as (keyof TrainerConfig)[]) {
    if ((FIXED as readonly string[]).includes(key)) continue;
    if (!same(config[key], saved[key])) changes[key] = { from: saved[key], to: config[key] };
  }
  return changes;
}

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  defaultLr,
  defaultTemperature,
  loadTrainerConfig,
  METHODS,
  type Method,
  parseTrainerConfig,
  TRAINER_BACKENDS,
  type TrainerBackend,
  type TrainerConfig,
  type TrainerConfigInput,
} from '../config.js';
import { readDomainWeightsFile } from '../domain-weights-file.js';
import { CliError } from './io.js';
import { choice, integer, positiveNumber } from './options.js';

/** Training flags shared by train, compare and demo (commander's camelCase names). */
export interface TrainFlags {
  config?: string;
  model?: string;
  steps?: number;
  seqLen?: number;
  batchSize?: number;
  gradAccumulation?: number;
  lr?: number;
  endLr?: number;
  lrWarmup?: number;
  r?: number;
  reweightWarmup?: number;
  /** uniform, doge, doremi, a weights JSON file, or weights already read. */
  domainWeights?: string | Record<string, number>;
  /** Online domain reweighting (lrw train --domain-reweighting); DoReMi also needs `reference`. */
  domainReweighting?: 'doremi' | 'doge';
  reference?: string;
  evalInterval?: number;
  checkpointInterval?: number;
  seed?: number;
  backend?: TrainerBackend;
  guardMaxBad?: number;
  guardLossZ?: number;
  guardGradZ?: number;
  /** --bucket-mb: the all-reduce bucket size in MiB. */
  bucketMb?: number;
  /** false with --no-overlap (commander's default for the flag is true). */
  overlap?: boolean;
}

/** Adds the shared training flags to a command. */
export function addTrainFlags(c: Command): Command {
  return c
    .option('-c, --config <file>', 'JSON config file (flags override its fields)')
    .option('-m, --model <name>', 'model preset: nano, micro, tiny or an @lrw/models preset')
    .option('--steps <n>', 'optimizer steps', integer(1))
    .option('--seq-len <n>', 'tokens per sample (T)', integer(1))
    .option('--batch-size <n>', 'samples per micro-batch (B)', integer(1))
    .option('--grad-accumulation <n>', 'micro-batches per optimizer step', integer(1))
    .option('--lr <peak>', 'peak learning rate (cosine schedule)', positiveNumber)
    .option('--end-lr <lr>', 'final learning rate of the cosine', positiveNumber)
    .option('--lr-warmup <n>', 'learning-rate warm-up steps (default 2.5% of --steps)', integer(0))
    .option(
      '--r <value>',
      "temperature r after the warm-up (default: the paper's value for the method)",
      positiveNumber,
    )
    .option(
      '--reweight-warmup <n>',
      'plain-mean steps before reweighting starts (default 5% of --steps, the paper 1000 of 20000)',
      integer(0),
    )
    .option(
      '--domain-weights <w>',
      "domain mixture: uniform, doge, doremi (the paper's SlimPajama vectors), or a domain-weights.json of lrw doremi / lrw doge",
    )
    .option('--eval-interval <n>', 'evaluate every n steps (0: at the end only)', integer(0))
    .option(
      '--checkpoint-interval <n>',
      'checkpoint every n steps (0: at the end only)',
      integer(0),
    )
    .option('--seed <n>', 'seed of model, data order and dropout', integer(0))
    .option(
      '--guard-max-bad <n>',
      'stop after n skipped updates in a row (non-finite or spiking loss or gradient; default 5)',
      integer(1),
    )
    .option(
      '--guard-loss-z <z>',
      'skip an update whose loss z-score (against the last 128 steps) exceeds z (default: off)',
      positiveNumber,
    )
    .option(
      '--guard-grad-z <z>',
      'skip an update whose gradient-norm z-score exceeds z (default: off)',
      positiveNumber,
    )
    .option(
      '--backend <name>',
      `tensor backend: ${TRAINER_BACKENDS.join(', ')} (default cpu; webgpu needs a WebGPU adapter and gpujs a WebGL context (headless-gl in Node); without a GPU both run on software and are far slower than cpu; cuda needs an NVIDIA GPU)`,
      choice(TRAINER_BACKENDS),
    )
    .option(
      '--bucket-mb <MiB>',
      'with several MPI ranks: sum the gradients in buckets of at most this many MiB, each started while backward runs (default 25, as PyTorch DDP)',
      positiveNumber,
    )
    .option(
      '--no-overlap',
      'with several MPI ranks: sum the gradients in one all-reduce after backward instead of buckets overlapped with it',
    );
}

/** The config file as written (validated first, so its errors name the file and field). */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  await loadTrainerConfig(path);
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** The lr block of the flags over the file's (or the default schedule of `steps`). */
function lrInput(flags: TrainFlags, fileLr: Json | undefined, steps: number, source: string): Json {
  if (fileLr?.kind === 'constant') {
    if (flags.endLr !== undefined) {
      throw new CliError(
        `--end-lr needs a decaying schedule, but ${source} sets lr.kind "constant".`,
        'leave --end-lr out, or set lr.kind to "cosine" or "linear" in the config file.',
      );
    }
    return {
      ...fileLr,
      ...(flags.lr !== undefined ? { lr: flags.lr } : {}),
      ...(flags.lrWarmup !== undefined ? { warmupSteps: flags.lrWarmup } : {}),
    };
  }
  const base: Json = fileLr ?? { ...defaultLr(steps), totalSteps: undefined };
  const peakLr = flags.lr ?? (base.peakLr as number);
  return {
    ...base,
    peakLr,
    // a new peak below the file's final lr takes the final lr down with it
    endLr: flags.endLr ?? Math.min(base.endLr as number, peakLr),
    warmupSteps: flags.lrWarmup ?? base.warmupSteps,
  };
}

/** The temperature of the flags over the file's (or the method's default of `steps`). */
function temperatureInput(
  flags: TrainFlags,
  fileT: Json | undefined,
  method: Method,
  steps: number,
): Json {
  const base = (fileT ?? defaultTemperature(method, steps)) as Json;
  if (base.kind === 'plain-mean-warmup') {
    const then = base.then as Json;
    return {
      ...base,
      warmupSteps: flags.reweightWarmup ?? base.warmupSteps,
      // biome-ignore lint/suspicious/noThenProperty: the config's field name
      then: flags.r !== undefined ? { ...then, r: flags.r } : then,
    };
  }
  // a schedule without a plain-mean phase: --r sets its final r, --reweight-warmup adds the phase
  const leaf = flags.r !== undefined ? { ...base, r: flags.r } : base;
  return flags.reweightWarmup === undefined
    ? leaf
    : // biome-ignore lint/suspicious/noThenProperty: the config's field name
      { kind: 'plain-mean-warmup', warmupSteps: flags.reweightWarmup, then: leaf };
}

/**
 * The raw config input of a run: the config file's fields and the flags on top. Fields neither
 * sets take the config's defaults (which scale the warm-ups with the steps, file or flags alike).
 * `method` is the run's method. What the flags could not apply is said in `notes`.
 */
export async function configInput(
  flags: TrainFlags,
  method?: Method,
  notes: string[] = [],
): Promise<TrainerConfigInput> {
  const file = flags.config ? await readConfigFile(flags.config) : {};
  const input: Json = { ...file };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) input[key] = value;
  };
  set('model', flags.model);
  set('steps', flags.steps);
  set('seqLen', flags.seqLen);
  set('batchSize', flags.batchSize);
  set('gradAccumulation', flags.gradAccumulation);
  set('domainWeights', domainWeightsInput(flags.domainWeights));
  if (flags.domainReweighting !== undefined || flags.reference !== undefined) {
    input.domainReweighting = domainReweightingInput(flags, file.domainReweighting as Json);
  }
  set('evalInterval', flags.evalInterval);
  set('checkpointInterval', flags.checkpointInterval);
  set('seed', flags.seed);
  set('backend', flags.backend);
  if (flags.bucketMb !== undefined || flags.overlap === false) {
    input.allReduce = {
      ...(file.allReduce as Json | undefined),
      ...(flags.bucketMb !== undefined ? { bucketMB: flags.bucketMb } : {}),
      ...(flags.overlap === false ? { overlap: false } : {}),
    };
  }
  set('method', method);
  if (
    flags.guardMaxBad !== undefined ||
    flags.guardLossZ !== undefined ||
    flags.guardGradZ !== undefined
  ) {
    input.guard = {
      ...(file.guard as Json | undefined),
      ...(flags.guardMaxBad !== undefined ? { maxConsecutiveBad: flags.guardMaxBad } : {}),
      ...(flags.guardLossZ !== undefined ? { lossZThreshold: flags.guardLossZ } : {}),
      ...(flags.guardGradZ !== undefined ? { gradNormZThreshold: flags.guardGradZ } : {}),
    };
  }
  const steps = (input.steps as number | undefined) ?? 20_000;
  const source = flags.config ?? 'the flags';
  if (flags.lr !== undefined || flags.endLr !== undefined || flags.lrWarmup !== undefined) {
    input.lr = lrInput(flags, file.lr as Json | undefined, steps, source);
  }
  const m = (input.method as Method | undefined) ?? 'uniform';
  if (m === 'uniform') {
    if (file.temperature !== undefined) {
      notes.push(`the temperature of ${flags.config} does not apply to method uniform (left out)`);
    }
    delete input.temperature;
  } else if (flags.r !== undefined || flags.reweightWarmup !== undefined) {
    input.temperature = temperatureInput(flags, file.temperature as Json | undefined, m, steps);
  }
  return input as TrainerConfigInput;
}

/** The --domain-weights value: a mixture name as is, a file's weights read from it. */
function domainWeightsInput(
  value: TrainFlags['domainWeights'],
): string | Record<string, number> | undefined {
  if (value === undefined || typeof value === 'object') return value;
  if (STATIC_NAMES.includes(value)) return value;
  return readDomainWeightsFile(value);
}

const STATIC_NAMES = ['uniform', 'doge', 'doremi'];

/** --domain-reweighting and --reference over the config file's domainReweighting. */
function domainReweightingInput(flags: TrainFlags, fromFile: Json | undefined): Json {
  const kind = flags.domainReweighting ?? (fromFile?.kind as string | undefined);
  if (kind === undefined) {
    throw new CliError(
      '--reference needs --domain-reweighting doremi.',
      'add --domain-reweighting doremi, or leave --reference out.',
    );
  }
  const base = fromFile?.kind === kind ? fromFile : {};
  const reference = flags.reference ?? (base.reference as string | undefined);
  if (kind === 'doremi' && reference === undefined) {
    throw new CliError(
      '--domain-reweighting doremi needs --reference <run dir>: a run trained on this data with the default mixture.',
      'train one first (lrw train --out runs/reference ...), or let `lrw doremi` train the reference and the proxy for you.',
    );
  }
  if (kind === 'doge' && flags.reference !== undefined) {
    throw new CliError(
      '--reference applies to --domain-reweighting doremi only: DoGE needs no reference model.',
      'leave --reference out.',
    );
  }
  return { ...base, kind, ...(kind === 'doremi' ? { reference } : {}) };
}

/** configInput, validated (errors name the config file, or "flags"). */
export async function buildConfig(
  flags: TrainFlags,
  method?: Method,
  notes?: string[],
): Promise<TrainerConfig> {
  return parseTrainerConfig(
    await configInput(flags, method, notes),
    flags.config ?? 'command-line flags',
  );
}

export { METHODS };

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
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
import { choice, integer, positiveNumber } from './options.js';

/**
 * The paper's schedules are stated for 20,000 steps: 500 LR warm-up steps and 1000 plain-mean
 * steps before reweighting starts (spec section 7). For runs of another length the CLI keeps
 * those proportions (2.5% and 5% of the steps) unless the config or a flag sets them.
 */
export const LR_WARMUP_SHARE = 500 / 20_000;
export const REWEIGHT_WARMUP_SHARE = 1000 / 20_000;

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
  domainWeights?: string;
  evalInterval?: number;
  checkpointInterval?: number;
  seed?: number;
  backend?: TrainerBackend;
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
    .option('--domain-weights <w>', 'domain mixture: uniform, doge, doremi')
    .option('--eval-interval <n>', 'evaluate every n steps (0: at the end only)', integer(0))
    .option(
      '--checkpoint-interval <n>',
      'checkpoint every n steps (0: at the end only)',
      integer(0),
    )
    .option('--seed <n>', 'seed of model, data order and dropout', integer(0))
    .option(
      '--backend <name>',
      `tensor backend: ${TRAINER_BACKENDS.join(', ')} (default cpu; webgpu needs a WebGPU adapter and gpujs a WebGL context (headless-gl in Node); without a GPU both run on software and are far slower than cpu; cuda needs an NVIDIA GPU)`,
      choice(TRAINER_BACKENDS),
    );
}

/** The config file as written (validated first, so its errors name the file and field). */
async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  await loadTrainerConfig(path);
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/**
 * The raw config input of a run: the config file's fields, the flags on top, and the CLI's
 * length-proportional warm-ups where neither sets them. `method` is the run's method.
 */
export async function configInput(flags: TrainFlags, method?: Method): Promise<TrainerConfigInput> {
  const file = flags.config ? await readConfigFile(flags.config) : {};
  const input: Record<string, unknown> = { ...file };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) input[key] = value;
  };
  set('model', flags.model);
  set('steps', flags.steps);
  set('seqLen', flags.seqLen);
  set('batchSize', flags.batchSize);
  set('gradAccumulation', flags.gradAccumulation);
  set('domainWeights', flags.domainWeights);
  set('evalInterval', flags.evalInterval);
  set('checkpointInterval', flags.checkpointInterval);
  set('seed', flags.seed);
  set('backend', flags.backend);
  set('method', method);
  const steps = (input.steps as number | undefined) ?? 20_000;
  const fileLr = file.lr as Record<string, unknown> | undefined;
  if (
    fileLr === undefined ||
    flags.lr !== undefined ||
    flags.endLr !== undefined ||
    flags.lrWarmup !== undefined
  ) {
    const base = fileLr?.kind === 'constant' ? {} : (fileLr ?? {});
    const peakLr = flags.lr ?? (base.peakLr as number | undefined) ?? 5e-4;
    input.lr = {
      kind: (base.kind as string | undefined) ?? 'cosine',
      peakLr,
      endLr: flags.endLr ?? (base.endLr as number | undefined) ?? Math.min(1e-4, peakLr),
      warmupSteps:
        flags.lrWarmup ??
        (base.warmupSteps as number | undefined) ??
        Math.round(steps * LR_WARMUP_SHARE),
      ...(base.totalSteps !== undefined ? { totalSteps: base.totalSteps } : {}),
    };
  }
  const m = (input.method as Method | undefined) ?? 'uniform';
  if (m === 'uniform') {
    delete input.temperature;
  } else if (
    file.temperature === undefined ||
    flags.r !== undefined ||
    flags.reweightWarmup !== undefined
  ) {
    const paper = defaultTemperature(m);
    const paperR =
      paper?.kind === 'plain-mean-warmup' && paper.then.kind === 'constant' ? paper.then.r : 1;
    const warmup = flags.reweightWarmup ?? Math.round(steps * REWEIGHT_WARMUP_SHARE);
    const then = { kind: 'constant', r: flags.r ?? paperR };
    input.temperature = { kind: 'plain-mean-warmup', warmupSteps: warmup, then };
  }
  return input as TrainerConfigInput;
}

/** configInput, validated (errors name the config file, or "flags"). */
export async function buildConfig(flags: TrainFlags, method?: Method): Promise<TrainerConfig> {
  return parseTrainerConfig(await configInput(flags, method), flags.config ?? 'command-line flags');
}

export { METHODS };

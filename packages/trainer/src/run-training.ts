import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Dataset, openDataset, type PrepareOptions, prepare } from '@lrw/data';
import { type CausalLM, createModel, type ModelConfig } from '@lrw/models';
import type { Strategy } from '@lrw/strategies';
import { writeBytesAtomic } from './atomic-write.js';
import { loadTrainerBackend } from './backend.js';
import type { Collective } from './collective.js';
import { parseTrainerConfig, type TrainerConfig, type TrainerConfigInput } from './config.js';
import { streamMixture } from './data-mixture.js';
import { resolveModelConfig } from './model-presets.js';
import { loadReferenceModel, OnlineDomainReweighter } from './online-domain-weights.js';
import type { ProgressLine } from './progress-line.js';
import { type RunResults, writeRunResults } from './run-results.js';
import { Trainer, type TrainerHooks } from './trainer.js';
import { TrainerError } from './trainer-error.js';
import { checkValidationStreams, validationBatches } from './validation-batches.js';

/** The file a run with online domain reweighting writes into its directory. */
export const DOMAIN_WEIGHTS_FILE = 'domain-weights.json';

export interface TrainRunOptions {
  /** A dataset directory written by @lrw/data's `prepare` (its `index.lrw`). */
  dataDir: string;
  /** When `dataDir` has no dataset yet, prepare it first with these options (outDir = dataDir). */
  prepare?: Omit<PrepareOptions, 'outDir'>;
  /** Run directory; default `config.outputDir`. */
  outDir?: string;
  /** Model config fields overriding the preset named by `config.model` (e.g. a smaller test model). */
  modelOverrides?: Partial<ModelConfig>;
  /** A custom score function replacing `config.method` (results record `method: "custom"`). */
  strategy?: Strategy;
  /** Display name in the report (runs with the same label are seeds of one setting). */
  label?: string;
  /** Continue from the latest checkpoint of the run directory when there is one. */
  resume?: boolean;
  collective?: Collective;
  /**
   * Validation batches per evaluation, split evenly among the domains with validation data (at
   * least 1 each; every domain is evaluated on its own documents); default: the config's
   * `evalBatches`, else the whole split.
   */
  evalBatches?: number;
  /** Batches the data stream prepares ahead on a worker thread (default 0: none). */
  prefetch?: number;
  progress?: ProgressLine | false;
  logSampleWeights?: boolean;
  hooks?: TrainerHooks;
  /**
   * Stops the run when aborted: during the start-up checks nothing is trained; during training
   * the step in progress finishes and is checkpointed (see TrainerOptions.signal). Either way
   * trainRun rejects with a TrainerError of code 'interrupted'.
   */
  signal?: AbortSignal;
  /** Skip reading every shard before the first step (default: verify them). */
  skipDataVerification?: boolean;
}

export interface TrainRunResult {
  outDir: string;
  config: TrainerConfig;
  results: RunResults;
}

async function openOrPrepare(options: TrainRunOptions): Promise<Dataset> {
  if (!existsSync(join(options.dataDir, 'index.lrw'))) {
    if (!options.prepare) {
      throw new TrainerError(
        'data',
        `${options.dataDir} holds no prepared dataset (no index.lrw).`,
        'run @lrw/data prepare() into it first, or pass `prepare: { sources, tokenizer }` to trainRun.',
      );
    }
    await prepare({ ...options.prepare, outDir: options.dataDir });
  }
  return openDataset(options.dataDir);
}

/**
 * Start-up checks of the data, before the model is built: every shard (train and validation)
 * is read and checked against the index, and every domain's validation stream opens, so a
 * damaged shard or a seqLen the validation split cannot fill stops the run here, not at the
 * step or the evaluation that first reads it.
 */
async function checkData(dataset: Dataset, config: TrainerConfig, options: TrainRunOptions) {
  try {
    if (!options.skipDataVerification) {
      const r = await dataset.verify({ signal: options.signal });
      if (options.progress) {
        options.progress.log(
          `data: ${r.shards} shards verified (${(r.bytes / 2 ** 20).toFixed(1)} MiB) in ${r.seconds.toFixed(1)} s`,
        );
      }
    }
    await checkValidationStreams(dataset, config);
  } catch (error) {
    if (!options.signal?.aborted) throw error;
    const reason = options.signal.reason;
    throw new TrainerError(
      'interrupted',
      `Stopped before training started (${typeof reason === 'string' ? reason : 'stop requested'}): nothing was trained.`,
      'start the run again.',
    );
  }
}

/**
 * One training run end to end: open (or prepare) the data, build the model from its preset on
 * `config.backend` (loaded through @lrw/tensor's registry; a backend that cannot start is a
 * TrainerError with a HINT), train with checkpoints and evaluations, and write `results.json`
 * for the HTML report.
 */
export async function trainRun(
  configInput: TrainerConfig | TrainerConfigInput,
  options: TrainRunOptions,
): Promise<TrainRunResult> {
  const parsed = parseTrainerConfig(configInput);
  await loadTrainerBackend(parsed.backend);
  const outDir = resolve(options.outDir ?? parsed.outputDir);
  const config = { ...parsed, outputDir: outDir };
  const dataset = await openOrPrepare(options);
  await checkData(dataset, config, options);
  const rank = options.collective?.rank ?? 0;
  const worldSize = options.collective?.worldSize ?? 1;
  const modelConfig = {
    ...resolveModelConfig(config.model, { vocabSize: dataset.vocabSize, seqLen: config.seqLen }),
    ...options.modelOverrides,
  } as ModelConfig;
  if (modelConfig.vocabSize < dataset.vocabSize) {
    throw new TrainerError(
      'invalid-config',
      `The model's vocabulary (${modelConfig.vocabSize}) is smaller than the dataset's tokenizer (${dataset.vocabSize}).`,
      'leave vocabSize out of modelOverrides, or prepare the data with a smaller tokenizer.',
    );
  }
  const model = createModel(modelConfig, { seed: config.seed, backend: config.backend });
  const train = dataset.stream({
    batchSize: config.batchSize,
    seqLen: config.seqLen,
    seed: config.seed,
    mixture: streamMixture(config.domainWeights, dataset.domains),
    prefetch: options.prefetch ?? 0,
    worldSize,
    rank,
  });
  const data = {
    id: dataset.id,
    tokenizer: dataset.index.tokenizer.name,
    vocabSize: dataset.vocabSize,
    dir: resolve(options.dataDir),
  };
  let reweighter: OnlineDomainReweighter | undefined;
  if (config.domainReweighting) {
    let reference: CausalLM | undefined;
    try {
      if (config.domainReweighting.kind === 'doremi') {
        reference = await loadReferenceModel(
          config.domainReweighting.reference,
          data,
          config.backend,
        );
      }
      reweighter = new OnlineDomainReweighter(config.domainReweighting, {
        dataset,
        stream: train,
        model,
        reference,
        initial: train.weights(),
        seqLen: config.seqLen,
        seed: config.seed,
      });
    } catch (error) {
      reference?.dispose();
      await train.close();
      model.dispose();
      throw error;
    }
  }
  // rank 0 evaluates alone, on batches of the global size: the same validation samples for
  // every world size (evalBatches counts global batches)
  const validation = () =>
    validationBatches(dataset, {
      batchSize: config.batchSize * worldSize,
      seqLen: config.seqLen,
      maxBatches: options.evalBatches ?? config.evalBatches,
    });
  let trainer: Trainer;
  try {
    trainer = await Trainer.create({
      config,
      model,
      train,
      domains: dataset.domains,
      validation,
      outDir,
      collective: options.collective,
      strategy: options.strategy,
      resume: options.resume,
      progress: options.progress,
      logSampleWeights: options.logSampleWeights,
      hooks: options.hooks,
      signal: options.signal,
      data,
      domainReweighter: reweighter,
    });
  } catch (error) {
    await reweighter?.close();
    await train.close();
    model.dispose();
    throw error;
  }
  try {
    await trainer.train();
    const last = trainer.lastEvaluation;
    const domains: RunResults['domains'] = {};
    for (const [d, loss] of Object.entries(last?.domainLoss ?? {})) {
      domains[d] = { loss, perplexity: last!.domainPerplexity[d]! };
    }
    const results: RunResults = {
      method: options.strategy ? 'custom' : config.method,
      label: options.label ?? (options.strategy ? 'custom' : config.method),
      seed: config.seed,
      steps: trainer.step,
      tokens: trainer.tokensSeen,
      trainSeconds: trainer.elapsedSeconds,
      domains,
      config,
      modelConfig: { ...model.config },
    };
    if (rank === 0) await writeRunResults(outDir, results);
    if (rank === 0 && reweighter) {
      await writeBytesAtomic(
        join(outDir, DOMAIN_WEIGHTS_FILE),
        `${JSON.stringify(reweighter.result(outDir), null, 2)}\n`,
      );
    }
    return { outDir, config, results };
  } finally {
    await reweighter?.close();
    trainer.close();
    await train.close();
    model.dispose();
  }
}

export interface CompareRunsOptions extends Omit<TrainRunOptions, 'outDir' | 'strategy' | 'label'> {
  /** Parent directory: each run goes to `<root>/<label>`. */
  root: string;
}

/**
 * Several runs that differ only in the weighting method: same data, seed, model and budget.
 * `runs` maps a label to the config fields that change (e.g. `{ uniform: { method: 'uniform' },
 * linupper: { method: 'linupper' } }`). Runs one after another; returns their results in order.
 */
export async function compareRuns(
  base: TrainerConfigInput,
  runs: Record<string, TrainerConfigInput>,
  options: CompareRunsOptions,
): Promise<TrainRunResult[]> {
  const out: TrainRunResult[] = [];
  for (const [label, change] of Object.entries(runs)) {
    const { root, ...rest } = options;
    out.push(await trainRun({ ...base, ...change }, { ...rest, outDir: join(root, label), label }));
  }
  return out;
}

import { resolve } from 'node:path';
import type { TokenBatch } from '@lrw/eval';
import type { CausalLM, ModelConfig } from '@lrw/models';
import {
  constantTemperature,
  Reweighter,
  type ReweighterState,
  type Strategy,
  type TemperatureScheduleConfig,
  temperatureSchedule,
} from '@lrw/strategies';
import { type Tensor, tensor, tidy } from '@lrw/tensor';
import { AdamW, type AdamWState } from './adamw.js';
import { writeBytesAtomic } from './atomic-write.js';
import { modelBackend } from './backend.js';
import type { CheckpointContents } from './checkpoint-file.js';
import { CheckpointStore } from './checkpoint-store.js';
import { type Collective, checkCollective, SingleProcessCollective } from './collective.js';
import type { TemperatureConfig, TrainerConfig } from './config.js';
import { agreeOnStart } from './data-parallel-start.js';
import { evalRecord, evaluateModel } from './evaluate.js';
import { assignFlatGradient, flatGradient } from './flat-gradient.js';
import { clipGradNorm, globalGradNormAsync } from './grad-clip.js';
import { DEFAULT_BUCKET_MB, GradientBuckets } from './gradient-buckets.js';
import { type LrSchedule, lrSchedule } from './lr-schedule.js';
import type { EvalRecord, MetricsRecord, TrainStepRecord } from './metrics-record.js';
import { MetricsWriter } from './metrics-writer.js';
import type { DomainReweighter, DomainReweighterState } from './online-domain-weights.js';
import { ProgressLine } from './progress-line.js';
import {
  type ConfigChanges,
  checkSameData,
  checkSameModel,
  type DataIdentity,
  resumeChanges,
} from './resume-compat.js';
import { openRunDirectory, runPaths } from './run-directory.js';
import { appendHistory, type HistoryEvent } from './run-history.js';
import type { RunLock } from './run-lock.js';
import { StepGuard, type StepGuardState } from './step-guard.js';
import { type GlobalMicroBatch, stepWeights } from './step-weights.js';
import { TrainerError } from './trainer-error.js';

/** A training batch as @lrw/data's TokenStream yields it. */
export interface TrainBatch {
  tokens: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  domainIds: Int32Array;
  batchSize: number;
  seqLen: number;
}

/** What the trainer needs of a data stream: @lrw/data's TokenStream fits. */
export interface BatchSource {
  /** The next batch; null when the stream has ended (an error for training). */
  next(): Promise<TrainBatch | null>;
  state(): unknown;
  load(state: never): void;
}

export interface TrainerHooks {
  /** Before optimizer step `step` (0-based: updates already applied). */
  beforeStep?(step: number): void;
  /** After each checkpoint is saved. */
  onCheckpoint?(step: number): void;
}

export interface TrainerOptions {
  config: TrainerConfig;
  model: CausalLM;
  /** Training batches of this rank (batchSize x seqLen). */
  train: BatchSource;
  /** Domain names by id (the dataset's `domains`). */
  domains: readonly string[];
  /** A fresh pass over the validation batches, called at each evaluation. */
  validation?: () => Iterable<TokenBatch> | AsyncIterable<TokenBatch>;
  /** Validation batches per evaluation (default: all). */
  evalBatches?: number;
  /** Run directory (default `config.outputDir`). */
  outDir?: string;
  collective?: Collective;
  /** A custom score function s = f(x) replacing `config.method`'s (spec section 4). */
  strategy?: Strategy;
  /** Continue from the latest checkpoint in the run directory when there is one. */
  resume?: boolean;
  /** The console progress line; false for none (default: one on stderr, rank 0). */
  progress?: ProgressLine | false;
  /** Also log every sample's loss and weight in each train record (for checks; B numbers each). */
  logSampleWeights?: boolean;
  hooks?: TrainerHooks;
  /**
   * Stops the run at the next step boundary when aborted: the step in progress finishes, a
   * checkpoint is written (unless that step's update was skipped) and `train()` rejects with a
   * TrainerError of code 'interrupted' saying where. An evaluation in progress is abandoned (it
   * runs again on resume). With several ranks, every rank must pass a signal: the ranks agree at
   * each step boundary, so they all stop after the same step.
   */
  signal?: AbortSignal;
  /** The data the run trains on: recorded in checkpoints and checked on resume. */
  data?: DataIdentity;
  /** Online domain reweighting (DoReMi, DoGE): updated before each step, kept in checkpoints. */
  domainReweighter?: DomainReweighter;
}

/** A train record with the optional per-sample detail of `logSampleWeights`. */
export type TrainerStepRecord = TrainStepRecord & {
  sampleLosses?: number[];
  sampleWeights?: number[];
};

/** One micro-batch of a step: its forward graph, host losses and the gathered global batch. */
type MicroBatch = ReturnType<Trainer['forward']> & {
  host: Float32Array;
  global: GlobalMicroBatch;
  domains: number[];
};

/** Converts the config's JSON temperature (`then`) to @lrw/strategies' form (`after`). */
export function temperatureConfig(t: TemperatureConfig): TemperatureScheduleConfig {
  if (t.kind === 'plain-mean-warmup') {
    return { kind: 'plain-mean-warmup', warmupSteps: t.warmupSteps, after: t.then };
  }
  return t;
}

/**
 * The training loop (ARCHITECTURE.md "Data flow of one training step"): per-sample losses ->
 * detached host copy -> allGather -> weights (@lrw/strategies) -> sum_i c_i l_i on this rank's
 * slice -> backward, with the gradients summed over ranks in buckets as it goes (or in one
 * allReduceSum after it) -> step guard -> clip -> AdamW.
 */
export class Trainer {
  readonly config: TrainerConfig;
  readonly model: CausalLM;
  readonly optimizer: AdamW;
  readonly reweighter: Reweighter;
  readonly guard: StepGuard;
  readonly lr: LrSchedule;
  readonly collective: Collective;
  readonly outDir: string;
  /** The backend the model's parameters live on; the trainer's tensors go there too. */
  readonly backend: string;
  private readonly options: TrainerOptions;
  private readonly method: TrainerConfig['method'] | 'custom';
  private readonly store: CheckpointStore;
  private metrics: MetricsWriter | undefined;
  private progress: ProgressLine | undefined;
  private stepIndex = 0;
  private tokens = 0;
  private elapsedBefore = 0;
  private startedAt = performance.now();
  private lastEval: EvalRecord | undefined;
  private lastCheckpointStep = -1;
  private lastCheckpointPath: string | undefined;
  /** A periodic checkpoint is due but waits for a step whose update was applied. */
  private checkpointDue = false;
  private resumedFrom: number | undefined;
  private lock: RunLock | undefined;
  /** The gradient buckets of the overlapped all-reduce (made at the first step that uses it). */
  private buckets: GradientBuckets | undefined;
  /**
   * How this run sums the gradients over ranks: 'overlapped' (buckets during backward), 'flat'
   * (one vector after backward; `reason` says why, unless the config asked for it) or 'none'
   * (one rank).
   */
  readonly gradientReduction: { mode: 'none' | 'overlapped' | 'flat'; reason?: string };

  private constructor(options: TrainerOptions) {
    const { config, model } = options;
    this.options = options;
    this.config = config;
    this.model = model;
    this.collective = options.collective ?? new SingleProcessCollective();
    checkCollective(this.collective);
    // the real run directory, in config.json and every checkpoint's config
    this.outDir = resolve(options.outDir ?? config.outputDir);
    this.config = { ...config, outputDir: this.outDir };
    this.backend = modelBackend(model, config.backend);
    this.lr = lrSchedule(config.lr);
    this.optimizer = new AdamW(model.namedParameters(), config.optimizer);
    this.method = options.strategy !== undefined ? 'custom' : config.method;
    this.reweighter =
      config.method === 'uniform' && options.strategy === undefined
        ? new Reweighter({ strategy: 'uniform', schedule: constantTemperature(1) })
        : new Reweighter({
            strategy: options.strategy ?? config.method,
            schedule: temperatureSchedule(
              temperatureConfig(config.temperature ?? { kind: 'constant', r: 1 }),
            ),
          });
    this.guard = new StepGuard(config.guard);
    this.store = new CheckpointStore(runPaths(this.outDir).checkpoints, {
      keepLast: config.keepCheckpoints,
    });
    this.gradientReduction = this.chooseGradientReduction();
  }

  /** Overlapped buckets where the run has several ranks and everything needed allows it. */
  private chooseGradientReduction(): Trainer['gradientReduction'] {
    const c = this.collective;
    if (c.worldSize === 1) return { mode: 'none' };
    if (this.config.allReduce?.overlap === false) return { mode: 'flat' };
    if (c.startAllReduceSum === undefined) {
      return { mode: 'flat', reason: 'the collective has no startAllReduceSum' };
    }
    if (c.overlapUnavailableReason !== undefined) {
      return { mode: 'flat', reason: c.overlapUnavailableReason };
    }
    const params = this.model.parameters();
    if (params.some((p) => p.backend.readSync === undefined)) {
      return {
        mode: 'flat',
        reason: `the ${this.backend} backend reads gradients only asynchronously, not during backward`,
      };
    }
    return { mode: 'overlapped' };
  }

  /**
   * Builds the trainer and opens the run directory (rank 0 takes its lock: a second writer is
   * refused, naming the first); with `resume`, restores the latest checkpoint when there is one.
   */
  static async create(options: TrainerOptions): Promise<Trainer> {
    const t = new Trainer(options);
    const paths = runPaths(t.outDir);
    if (t.collective.rank === 0) t.lock = openRunDirectory(t.outDir);
    try {
      let changes: ConfigChanges = {};
      if (options.resume) {
        const contents = await t.store.loadLatest();
        if (contents) {
          changes = t.restore(contents);
          t.resumedFrom = contents.step;
        }
      }
      await agreeOnStart(t.collective, t.model, t.config, t.stepIndex);
      if (t.collective.rank === 0) {
        const resumed = t.resumedFrom !== undefined;
        if (!resumed || Object.keys(changes).length > 0) {
          await writeBytesAtomic(paths.config, `${JSON.stringify(t.config, null, 2)}\n`);
        }
        t.metrics = await MetricsWriter.open(
          paths.metrics,
          options.resume ? { resumeAfterStep: t.resumedFrom ?? 0 } : {},
        );
        // the evaluation of the checkpoint's step, if it was recorded before the run stopped
        t.lastEval = lastEvalAt(t.metrics.kept, t.resumedFrom);
        t.history(
          resumed
            ? { event: 'resume', step: t.step, changes }
            : {
                event: 'start',
                step: 0,
                ...(t.collective.worldSize > 1 ? { worldSize: t.collective.worldSize } : {}),
              },
        );
        if (options.progress !== false) {
          t.progress = options.progress ?? new ProgressLine({ totalSteps: t.config.steps });
        }
        const { reason } = t.gradientReduction;
        if (reason !== undefined) {
          t.progress?.log(
            `note: the gradients are summed in one all-reduce after backward, not overlapped with it: ${reason}.`,
          );
        }
      }
      return t;
    } catch (error) {
      t.lock?.release();
      t.metrics?.close();
      throw error;
    }
  }

  /** Appends to the run's history.jsonl (rank 0; a failure to write it never stops training). */
  private history(event: HistoryEvent): void {
    if (this.collective.rank !== 0) return;
    try {
      appendHistory(runPaths(this.outDir).history, event);
    } catch {
      // the history is a record, not state: training goes on without it
    }
  }

  /** Optimizer steps completed (updates applied or skipped). */
  get step(): number {
    return this.stepIndex;
  }

  /** Tokens trained on so far (all ranks). */
  get tokensSeen(): number {
    return this.tokens;
  }

  /** Seconds of training so far, across resumes. */
  get elapsedSeconds(): number {
    return this.elapsedBefore + (performance.now() - this.startedAt) / 1000;
  }

  /** The last evaluation, if any. */
  get lastEvaluation(): EvalRecord | undefined {
    return this.lastEval;
  }

  /**
   * Forward pass of one micro-batch: per-sample losses (graph kept). Targets and mask stay host
   * arrays (no device read); the losses' host copy is read by the caller (`await data()`).
   */
  private forward(batch: TrainBatch) {
    const { batchSize: B, seqLen: T } = batch;
    const { losses, counts } = tidy(() => {
      const ids = tensor(batch.tokens, { shape: [B, T], dtype: 'int32', backend: this.backend });
      const r = this.model.perSampleLoss(ids, batch.targets, batch.mask);
      return { losses: r.losses, counts: r.counts };
    });
    const active = Uint8Array.from(counts, (c) => (c > 0 ? 1 : 0));
    return { losses, active, domainIds: batch.domainIds, tokens: B * T };
  }

  /** All ranks' losses, activity and domain ids of one micro-batch, in rank order. */
  private async gather(host: Float32Array, active: Uint8Array, domainIds: Int32Array) {
    const W = this.collective.worldSize;
    if (W === 1) return { losses: host, active, domainIds: Array.from(domainIds) };
    const B = host.length;
    const local = new Float32Array(3 * B);
    local.set(host, 0);
    local.set(active, B);
    local.set(domainIds, 2 * B);
    const all = await this.collective.allGather(local);
    const losses = new Float32Array(W * B);
    const act = new Uint8Array(W * B);
    const dom: number[] = [];
    for (let r = 0; r < W; r++) {
      const base = r * 3 * B;
      losses.set(all.subarray(base, base + B), r * B);
      for (let i = 0; i < B; i++) {
        act[r * B + i] = all[base + B + i]!;
        dom.push(all[base + 2 * B + i]!);
      }
    }
    return { losses, active: act, domainIds: dom };
  }

  /**
   * Sums the gradients over ranks (skipped for one rank, where it is the identity). The
   * gradients travel as one flat vector: concatenated on the device and read once, summed by
   * the collective, uploaded once and copied back into each gradient.
   */
  private async reduceGradients(params: Tensor[]): Promise<void> {
    if (this.collective.worldSize === 1) return;
    const flat = await flatGradient(params); // zeros where a parameter has no gradient
    const summed = await this.collective.allReduceSum(flat);
    assignFlatGradient(params, summed);
  }

  /** Runs one optimizer step (A micro-batches) and logs it. Throws when the step guard stops. */
  async trainStep(): Promise<TrainerStepRecord> {
    const s = this.stepIndex;
    this.options.hooks?.beforeStep?.(s);
    const t0 = performance.now();
    const lr = this.lr(s);
    await this.options.domainReweighter?.beforeStep(s, lr);
    const micro: MicroBatch[] = [];
    try {
      await this.forwardMicroBatches(s, micro);
      const globalLosses = micro.flatMap((m) => Array.from(m.global.losses));
      const { weights, gradNorm, verdict } = await this.backwardAndUpdate(
        micro,
        s,
        lr,
        globalLosses.every(Number.isFinite),
      );
      this.model.zeroGrad();
      const stepTokens = micro.reduce((n, m) => n + m.tokens, 0) * this.collective.worldSize;
      this.tokens += stepTokens;
      this.stepIndex = s + 1;
      const record = this.stepRecord(micro, globalLosses, {
        lr,
        gradNorm,
        weights,
        verdict,
        tokensPerSecond: stepTokens / ((performance.now() - t0) / 1000),
      });
      this.metrics?.write(record as TrainStepRecord);
      this.progress?.update({
        step: s + 1,
        loss: record.meanLoss as number,
        tokensPerSecond: record.tokensPerSecond,
        ...(verdict.action !== 'update' ? { note: `skipped: ${verdict.reason}` } : {}),
      });
      if (verdict.action === 'stop') {
        // no checkpoint: the one before the bad run stays `latest`, to resume from
        this.metrics?.sync();
        throw verdict.error;
      }
      return record;
    } finally {
      for (const m of micro) if (!m.losses.disposed) m.losses.dispose();
      this.model.zeroGrad();
    }
  }

  /**
   * The step's A micro-batches: forward pass (graph kept), the per-sample losses' host copy
   * (the step's one read before backward) and every rank's losses gathered. Each entry is
   * pushed to `micro` before the awaits, so a failure still disposes its graph.
   */
  private async forwardMicroBatches(s: number, micro: MicroBatch[]): Promise<void> {
    for (let a = 0; a < this.config.gradAccumulation; a++) {
      const batch = await this.options.train.next();
      if (batch === null) {
        throw new TrainerError(
          'data',
          `The training data ran out at step ${s + 1} (micro-batch ${a + 1}).`,
          "let the train split cycle (@lrw/data's default exhaustion policy 'cycle'), or lower steps.",
        );
      }
      const f = this.forward(batch);
      const entry: MicroBatch = {
        ...f,
        host: new Float32Array(0),
        global: { losses: new Float32Array(0), active: f.active },
        domains: [],
      };
      micro.push(entry);
      entry.host = (await f.losses.data()) as Float32Array;
      entry.global.losses = entry.host;
      const g = await this.gather(entry.host, f.active, f.domainIds);
      entry.global = { losses: g.losses, active: g.active };
      entry.domains = g.domainIds;
    }
  }

  /**
   * Weights of the gathered losses, backward of sum_i c_i l_i on this rank's slice, gradients
   * summed over ranks, the step guard's verdict and, when it says so, clipping and AdamW. A
   * non-finite loss skips straight to the guard.
   */
  private async backwardAndUpdate(micro: MicroBatch[], s: number, lr: number, finite: boolean) {
    if (!finite) {
      return {
        weights: undefined,
        gradNorm: Number.NaN,
        verdict: this.guard.observe(s + 1, Number.NaN),
      };
    }
    const W = this.collective.worldSize;
    const rank = this.collective.rank;
    const params = this.model.parameters();
    const weights = stepWeights(
      this.reweighter,
      this.method,
      micro.map((m) => m.global),
      s,
      this.config.accumulationNormalization,
    );
    const A = micro.length;
    const B = micro[0]!.host.length;
    // the last micro-batch's backward starts the bucketed sums as its layers finish
    const overlapped = this.gradientReduction.mode === 'overlapped';
    if (overlapped && !this.buckets?.fits(params)) {
      this.buckets = new GradientBuckets(
        params,
        this.config.allReduce?.bucketMB ?? DEFAULT_BUCKET_MB,
      );
    }
    const reduction = overlapped ? this.buckets!.start(this.collective) : undefined;
    micro.forEach((m, i) => {
      const losses = m.losses;
      tidy(() => {
        let objective: Tensor;
        if (weights.uniform) {
          // the plain mean loss itself: uniform training is mean-loss training exactly
          objective = losses.mean();
          if (A * W !== 1) objective = objective.mul(1 / (A * W));
        } else {
          // this rank's slice of the global coefficients, by GLOBAL rank (spec section 5);
          // gradients are summed over ranks, so no factor W
          const c = weights.coefficients[i]!.subarray(rank * B, (rank + 1) * B);
          objective = losses.mul(tensor(Float32Array.from(c), { backend: this.backend })).sum();
        }
        if (reduction && i === A - 1) {
          objective.backward(undefined, { onLeafGradReady: reduction.onLeafGradReady });
        } else {
          objective.backward();
        }
      });
      losses.dispose();
    });
    if (reduction) await reduction.finish();
    else await this.reduceGradients(params);
    const gradNorm = await globalGradNormAsync(params);
    const verdict = this.guard.observe(s + 1, weights.stats.weightedLoss, gradNorm);
    if (verdict.action === 'update') {
      if (this.config.gradClip !== null) clipGradNorm(params, this.config.gradClip, gradNorm);
      this.optimizer.step(lr);
    }
    return { weights, gradNorm, verdict };
  }

  /** The metrics record of the step just taken. */
  private stepRecord(
    micro: MicroBatch[],
    globalLosses: number[],
    step: {
      lr: number;
      gradNorm: number;
      weights: ReturnType<typeof stepWeights> | undefined;
      verdict: ReturnType<StepGuard['observe']>;
      tokensPerSecond: number;
    },
  ): TrainerStepRecord {
    const { weights, verdict } = step;
    return {
      kind: 'train',
      step: this.stepIndex,
      loss: weights ? weights.stats.weightedLoss : Number.NaN,
      meanLoss: globalLosses.reduce((x, y) => x + y, 0) / globalLosses.length,
      domainLoss: this.domainLoss(micro),
      lr: step.lr,
      gradNorm: step.gradNorm,
      tokensPerSecond: step.tokensPerSecond,
      tokens: this.tokens,
      elapsedSeconds: this.elapsedSeconds,
      r: weights ? weights.r : Number.NaN,
      ...(weights
        ? {
            weights: {
              maxWeightTimesN: weights.stats.maxWeightTimesN,
              capHolds: weights.stats.capHolds,
              effectiveSampleSize: weights.stats.effectiveSampleSize,
              entropy: weights.stats.entropy,
              n: weights.stats.n,
            },
            rhoHat: weights.stats.rhoHat,
          }
        : {}),
      ...(verdict.action !== 'update' ? { skipped: verdict.reason } : {}),
      ...(this.options.domainReweighter
        ? { domainWeights: this.options.domainReweighter.weights() }
        : {}),
      ...(this.options.logSampleWeights
        ? {
            sampleLosses: globalLosses,
            sampleWeights: weights ? weights.coefficients.flatMap((c) => Array.from(c)) : [],
          }
        : {}),
    };
  }

  private domainLoss(micro: { global: GlobalMicroBatch; domains: number[] }[]) {
    const sums = new Map<number, { sum: number; n: number }>();
    for (const m of micro) {
      m.domains.forEach((d, i) => {
        if (d < 0 || m.global.active[i] === 0) return;
        const e = sums.get(d) ?? { sum: 0, n: 0 };
        e.sum += m.global.losses[i]!;
        e.n++;
        sums.set(d, e);
      });
    }
    const out: Record<string, number> = {};
    for (const [d, e] of [...sums].sort((a, b) => a[0] - b[0])) {
      out[this.options.domains[d] ?? String(d)] = e.sum / e.n;
    }
    return out;
  }

  /**
   * Per-domain validation loss and perplexity through @lrw/eval (rank 0; others wait). A step
   * that already has its evaluation (recorded before a resume) is not evaluated again. With one
   * rank, an aborted `signal` abandons the evaluation between batches.
   */
  async evaluate(): Promise<EvalRecord | undefined> {
    let record: EvalRecord | undefined;
    if (this.collective.rank === 0 && this.lastEval?.step === this.stepIndex) {
      record = this.lastEval;
    } else if (this.collective.rank === 0 && this.options.validation) {
      const signal = this.collective.worldSize === 1 ? this.options.signal : undefined;
      const report = await evaluateModel(
        this.model,
        untilAborted(this.options.validation(), signal),
        { domains: this.options.domains, maxBatches: this.options.evalBatches },
      );
      record = evalRecord(this.stepIndex, report);
      this.metrics?.write(record);
      this.lastEval = record;
      const parts = Object.entries(record.domainLoss)
        .map(([d, l]) => `${d} ${l.toFixed(3)}`)
        .join(', ');
      this.progress?.log(`eval step ${this.stepIndex}: loss ${record.loss.toFixed(4)} (${parts})`);
    }
    await this.collective.barrier();
    return record;
  }

  /**
   * Everything a resume needs (rank 0 writes it). Async: parameters and moments are read to host
   * copies with `await data()`, so it works on every backend; checkpoints always hold host
   * float32 arrays, whatever backend trained. A model or optimizer state with a NaN or infinite
   * value is refused (a TrainerError): such a checkpoint could only resume into the same failure.
   */
  async checkpointContents(): Promise<CheckpointContents> {
    const model: CheckpointContents['model'] = {};
    for (const [name, p] of this.model.namedParameters()) {
      model[name] = { shape: p.shape, data: (await p.data()) as Float32Array };
    }
    const optimizerTensors = await this.optimizer.tensorsAsync();
    this.checkFinite({ ...model, ...optimizerTensors });
    return {
      step: this.stepIndex,
      model,
      optimizer: { tensors: optimizerTensors, state: this.optimizer.state() },
      parts: {
        trainer: {
          kind: 'lrw.trainer',
          version: 1,
          tokens: this.tokens,
          elapsedSeconds: this.elapsedSeconds,
          worldSize: this.collective.worldSize,
        },
        data: this.options.train.state(),
        dropout: this.model.dropoutGenerator.state(),
        reweighter: this.reweighter.state(),
        guard: this.guard.state(),
        metrics: { afterStep: this.stepIndex },
        // The resolved model config (preset plus any overrides), so `lrw eval` rebuilds this
        // exact model; the trainer config names only the preset.
        modelConfig: { ...this.model.config },
        ...(this.options.data ? { dataset: this.options.data } : {}),
        ...(this.options.domainReweighter
          ? { domainReweighting: this.options.domainReweighter.state() }
          : {}),
      },
      config: this.config,
    };
  }

  private checkFinite(tensors: Record<string, { data: Float32Array }>): void {
    for (const [name, t] of Object.entries(tensors)) {
      const at = t.data.findIndex((v) => !Number.isFinite(v));
      if (at < 0) continue;
      const latest =
        this.lastCheckpointStep >= 0
          ? `the latest checkpoint stays the one of step ${this.lastCheckpointStep}`
          : 'there is no earlier checkpoint';
      throw new TrainerError(
        'non-finite-model',
        `Not checkpointing step ${this.stepIndex}: "${name}" holds ${t.data[at]} at index ${at}, so the model has diverged; ${latest}.`,
        'resume from the latest checkpoint with a lower learning rate or a longer warm-up (the loss in metrics.jsonl shows where it went), or start again.',
      );
    }
  }

  /** Saves a checkpoint of the current step (rank 0) and syncs the metrics file first. */
  async saveCheckpoint(): Promise<void> {
    if (this.collective.rank === 0) {
      this.metrics?.sync();
      this.lastCheckpointPath = (await this.store.save(await this.checkpointContents())).path;
    }
    this.lastCheckpointStep = this.stepIndex;
    this.checkpointDue = false;
    await this.collective.barrier();
    this.options.hooks?.onCheckpoint?.(this.stepIndex);
  }

  /**
   * Restores a checkpoint written by `checkpointContents` into a run with a compatible config
   * (RESUME_OVERRIDES: the fields that may change); returns the fields that changed. The data
   * and the model are checked before anything is loaded.
   */
  restore(contents: CheckpointContents): ConfigChanges {
    const parts = contents.parts as {
      trainer: { tokens: number; elapsedSeconds: number; worldSize?: number };
      data: never;
      dropout: { seed: number; offset: number };
      reweighter: ReweighterState;
      guard: StepGuardState;
      modelConfig?: ModelConfig;
      dataset?: DataIdentity;
      domainReweighting?: DomainReweighterState;
    };
    checkSameData(parts.dataset, this.options.data);
    checkSameModel(parts.modelConfig, this.model.config);
    const changes = resumeChanges(this.config, contents.config as TrainerConfig, {
      worldSize: this.collective.worldSize,
      savedWorldSize: parts.trainer.worldSize ?? 1,
    });
    const model: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(contents.model)) model[name] = t.data;
    this.model.loadStateDict(model);
    this.optimizer.load(contents.optimizer.state as AdamWState, contents.optimizer.tensors);
    try {
      this.options.train.load(parts.data);
    } catch (error) {
      const data = (error as { code?: unknown }).code === 'STATE_MISMATCH';
      if (!data) throw error;
      throw new TrainerError(
        'checkpoint-mismatch',
        `The checkpoint's data position does not fit this run's data: ${(error as Error).message.split('\nHINT: ')[0]}.`,
        'resume on the dataset the run was trained on, with its seqLen and batchSize, or start a new run in a new output directory.',
        { cause: error },
      );
    }
    this.model.dropoutGenerator.load(parts.dropout);
    // a changed r (a resume override) is configuration: the running totals still carry over
    this.reweighter.load(
      changes.temperature
        ? { ...parts.reweighter, schedule: this.reweighter.state().schedule }
        : parts.reweighter,
    );
    this.guard.load(parts.guard);
    if (this.options.domainReweighter && parts.domainReweighting) {
      this.options.domainReweighter.load(parts.domainReweighting);
    }
    this.stepIndex = contents.step;
    this.tokens = parts.trainer.tokens;
    this.elapsedBefore = parts.trainer.elapsedSeconds;
    this.startedAt = performance.now();
    this.lastCheckpointStep = contents.step;
    return changes;
  }

  private evalDue(step: number): boolean {
    const { steps, evalInterval } = this.config;
    return step < steps && evalInterval > 0 && step % evalInterval === 0;
  }

  /**
   * Trains until `config.steps`, checkpointing every `checkpointInterval` steps and then
   * evaluating every `evalInterval` steps; at the end it checkpoints first and evaluates last,
   * so a failing evaluation loses nothing. A periodic checkpoint whose step skipped its update
   * (the step guard) waits for the next step that applies one, so a checkpoint never sits inside
   * a run of bad steps. A resumed run first evaluates the checkpoint's step if that was due and
   * not recorded. An aborted `signal` stops it after the current step (see TrainerOptions).
   */
  async train(): Promise<void> {
    const { steps, checkpointInterval } = this.config;
    try {
      if (this.resumedFrom !== undefined && this.evalDue(this.stepIndex)) await this.evaluate();
      while (this.stepIndex < steps) {
        if (await this.stopRequested()) await this.stop();
        await this.trainStep();
        const done = this.stepIndex;
        if (done < steps && checkpointInterval > 0 && done % checkpointInterval === 0) {
          this.checkpointDue = true;
        }
        if (this.checkpointDue && done < steps) {
          if (this.guard.consecutiveBad === 0) await this.saveCheckpoint();
          else this.history({ event: 'checkpoint-skipped', step: done, reason: 'update skipped' });
        }
        if (this.evalDue(done)) await this.evaluate();
      }
      if (await this.stopRequested()) await this.stop();
      // the run's result: written even when its last update was skipped (the model is then the
      // last applied update's), since nothing comes after it
      if (this.lastCheckpointStep !== this.stepIndex) await this.saveCheckpoint();
      if (this.lastEval?.step !== this.stepIndex) await this.evaluate();
      this.history({ event: 'finished', step: this.stepIndex });
    } catch (error) {
      const stop = this.options.signal?.aborted && !TrainerError.isInstance(error);
      if (stop) await this.stop(); // an evaluation abandoned for the signal
      if (!(TrainerError.isInstance(error) && error.code === 'interrupted')) {
        const e = error as { code?: unknown; message?: unknown };
        this.history({
          event: 'failed',
          step: this.stepIndex,
          code: typeof e?.code === 'string' ? e.code : 'error',
          message: String(e?.message ?? error).split('\n')[0]!,
        });
      }
      throw error;
    } finally {
      this.metrics?.sync();
      this.progress?.finish();
    }
  }

  /** Whether `signal` asks to stop; with several ranks, whether it does on any of them. */
  private async stopRequested(): Promise<boolean> {
    const signal = this.options.signal;
    if (signal === undefined) return false;
    // a step on the CPU backend awaits only settled promises: let a pending signal's handler run
    await new Promise((resolve) => setImmediate(resolve));
    if (this.collective.worldSize === 1) return signal.aborted;
    const votes = await this.collective.allReduceSum(Float32Array.of(signal.aborted ? 1 : 0));
    return votes[0]! > 0;
  }

  /** Checkpoints the current step when that is safe, then rejects with code 'interrupted'. */
  private async stop(): Promise<never> {
    const step = this.stepIndex;
    let saved: string;
    if (this.lastCheckpointStep === step && step > 0) {
      saved = `the checkpoint of step ${step} is saved${this.lastCheckpointPath ? ` (${this.lastCheckpointPath})` : ''}`;
    } else if (step === 0 || step === this.resumedFrom) {
      saved = 'no step was trained, so there is nothing new to save';
    } else if (this.guard.consecutiveBad > 0) {
      saved = `not checkpointed, since step ${step} skipped its update (the step guard); ${
        this.lastCheckpointStep >= 0
          ? `the latest checkpoint is step ${this.lastCheckpointStep}'s`
          : 'there is no checkpoint yet'
      }`;
    } else {
      await this.saveCheckpoint();
      saved = `checkpoint written: ${this.lastCheckpointPath ?? `step ${step}`}`;
    }
    const reason = this.options.signal?.reason;
    const signal = typeof reason === 'string' ? reason : 'stop requested';
    const checkpoint = this.lastCheckpointStep >= 0 ? this.lastCheckpointStep : null;
    this.history({ event: 'interrupted', step, signal, checkpoint });
    throw new TrainerError(
      'interrupted',
      `Training stopped after step ${step} of ${this.config.steps} (${signal}): ${saved}.`,
      checkpoint === null
        ? 'start the run again.'
        : 'resume the run to continue from its latest checkpoint, exactly as if it had not stopped.',
    );
  }

  /** Closes the metrics file and frees the optimizer state (the model stays with its owner). */
  close(): void {
    this.metrics?.close();
    this.metrics = undefined;
    this.optimizer.dispose();
    this.lock?.release();
    this.lock = undefined;
  }
}

/** The evaluation record of `step` among `records` (the last one, if several). */
function lastEvalAt(
  records: readonly MetricsRecord[],
  step: number | undefined,
): EvalRecord | undefined {
  if (step === undefined) return undefined;
  return records.findLast((r): r is EvalRecord => r.kind === 'eval' && r.step === step);
}

/** The batches, stopping with the signal's reason between batches once it is aborted. */
async function* untilAborted<T>(
  batches: Iterable<T> | AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncGenerator<T> {
  for await (const batch of batches) {
    signal?.throwIfAborted();
    yield batch;
  }
}

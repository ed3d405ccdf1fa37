/**
 * Online domain reweighting (DoReMi, DoGE) during a training run: before every optimizer step a
 * small probe batch with `probeSamples` samples of each domain measures the domains (DoReMi: the
 * proxy's clipped per-token excess loss over a reference model; DoGE: each domain's gradient and
 * its alignment with the others'), the domain weights take one update (domain-updates.ts) and the
 * training stream samples the step's batch from the new weights.
 *
 * The papers' proxies optimise sum_i alpha_i L_i by reweighting the loss of a batch drawn from a
 * fixed mixture; here the batch is drawn from alpha instead (resampling), which estimates the same
 * objective, so sample-level reweighting (LinUpper, ...) applies on top unchanged. The probe
 * batches come from streams of their own (one per domain, seeded apart from the training data),
 * so every domain is measured every step whatever alpha is. The weights, their running sum, the
 * trajectory and the probe streams' positions are all in the checkpoint: a resumed run continues
 * bit-identically.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset, TokenStream } from '@lrw/data';
import { type CausalLM, createModel, type ModelConfig } from '@lrw/models';
import { noGrad, tensor, tidy } from '@lrw/tensor';
import { CheckpointStore } from './checkpoint-store.js';
import type { TrainerConfig } from './config.js';
import { alignmentScores, dogeUpdate, doremiUpdate, excessLosses } from './domain-updates.js';
import { flatGradient } from './flat-gradient.js';
import type { DataIdentity } from './resume-compat.js';
import { runPaths } from './run-directory.js';
import { TrainerError } from './trainer-error.js';

export type DomainReweightingConfig = NonNullable<TrainerConfig['domainReweighting']>;

/** What the trainer calls: before each step, and for its checkpoints and records. */
export interface DomainReweighter {
  /** Updates the weights for step `step` (0-based) at learning rate `lr`; sets the stream's mixture. */
  beforeStep(step: number, lr: number): Promise<void>;
  /** The weights of the step just taken, by domain name. */
  weights(): Record<string, number>;
  state(): DomainReweighterState;
  load(state: DomainReweighterState): void;
}

export interface DomainReweighterState {
  kind: 'lrw.domain-reweighting';
  version: 1;
  method: 'doremi' | 'doge';
  alpha: number[];
  /** alpha after each update so far (its mean is the output). */
  trajectory: number[][];
  probes: unknown[];
}

/** `domain-weights.json`: what `lrw train --domain-weights <file>` and `lrw compare --mixtures` read. */
export interface DomainWeightsFile {
  kind: 'lrw-domain-weights';
  version: 1;
  method: 'doremi' | 'doge';
  /** The output: the mean of the weights over the steps (the papers' averaged weights). */
  weights: Record<string, number>;
  /** The weights of the last step. */
  final: Record<string, number>;
  steps: number;
  hyperparameters: Record<string, unknown>;
  /** The reference run (DoReMi). */
  reference?: string;
  /** The proxy run that computed them. */
  run: string;
  /** The weights after each step (step 1 is the first update). */
  trajectory: { step: number; weights: Record<string, number> }[];
}

const PROBE_SEED_OFFSET = 0x5eed_d0;

function named(domains: readonly string[], w: readonly number[]): Record<string, number> {
  return Object.fromEntries(domains.map((d, i) => [d, w[i]!]));
}

/**
 * A run's latest model, to serve as DoReMi's reference: refused, with what to do, when the
 * directory holds no finished run or one trained on data of another tokenizer.
 */
export async function loadReferenceModel(
  dir: string,
  data: DataIdentity,
  backend: string,
): Promise<CausalLM> {
  const paths = runPaths(resolve(dir));
  const hint =
    'train the reference run first on this dataset with the default mixture (`lrw doremi` does both runs), and pass its run directory as domainReweighting.reference (--reference).';
  if (!existsSync(paths.checkpoints)) {
    throw new TrainerError(
      'invalid-config',
      `domainReweighting.reference: ${dir} holds no run (no checkpoints/ folder).`,
      hint,
    );
  }
  const contents = await new CheckpointStore(paths.checkpoints).loadLatest();
  const parts = contents?.parts as
    | { modelConfig?: ModelConfig; dataset?: DataIdentity }
    | undefined;
  if (contents === undefined || parts?.modelConfig === undefined) {
    throw new TrainerError(
      'invalid-config',
      `domainReweighting.reference: ${paths.checkpoints} holds no checkpoint with its model config.`,
      hint,
    );
  }
  const saved = parts.dataset;
  if (saved && (saved.tokenizer !== data.tokenizer || saved.vocabSize !== data.vocabSize)) {
    throw new TrainerError(
      'invalid-config',
      `domainReweighting.reference: ${dir} was trained on data tokenized with ${saved.tokenizer} (vocabulary ${saved.vocabSize}); this run's data uses ${data.tokenizer} (vocabulary ${data.vocabSize}).`,
      hint,
    );
  }
  const model = createModel(parts.modelConfig, { seed: 0, backend });
  const state: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(contents.model)) state[name] = t.data;
  model.loadStateDict(state);
  model.eval();
  return model;
}

interface ProbeBatch {
  tokens: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  rows: number;
  seqLen: number;
}

/** DoReMi or DoGE over the training stream's domains; see the module comment. */
export class OnlineDomainReweighter implements DomainReweighter {
  private alpha: number[];
  private trajectory: number[][] = [];
  private readonly probes: TokenStream[];
  private readonly domains: readonly string[];

  constructor(
    private readonly config: DomainReweightingConfig,
    private readonly options: {
      dataset: Dataset;
      /** The training stream, whose mixture follows the weights. */
      stream: TokenStream;
      model: CausalLM;
      /** DoReMi's reference model (eval mode). */
      reference?: CausalLM;
      /** The initial weights (the stream's mixture at the start). */
      initial: Record<string, number>;
      seqLen: number;
      seed: number;
    },
  ) {
    // the domains of the mixture: one with weight 0 at the start (no training documents, or
    // left out by domainWeights) stays out
    const all = options.dataset.domains;
    this.domains = all.filter((d) => (options.initial[d] ?? 0) > 0);
    if (config.kind === 'doremi' && options.reference === undefined) {
      throw new TypeError('OnlineDomainReweighter: DoReMi needs the reference model');
    }
    const total = this.domains.reduce((s, d) => s + (options.initial[d] ?? 0), 0);
    this.alpha = this.domains.map((d) => (options.initial[d] ?? 0) / total);
    this.probes = this.domains.map((d) =>
      options.dataset.stream({
        split: 'train',
        batchSize: config.probeSamples,
        seqLen: options.seqLen,
        seed: (options.seed + PROBE_SEED_OFFSET + all.indexOf(d)) >>> 0,
        mixture: { [d]: 1 },
        prefetch: 0,
      }),
    );
  }

  weights(): Record<string, number> {
    return named(this.domains, this.alpha);
  }

  async beforeStep(_step: number, lr: number): Promise<void> {
    const batches: ProbeBatch[] = [];
    for (const p of this.probes) {
      const b = await p.next();
      if (b === null) throw new TrainerError('data', 'A domain-reweighting probe stream ended.');
      batches.push(b);
    }
    const { model } = this.options;
    const wasTraining = model.training;
    model.eval(); // the probes use no dropout: they do not draw from the dropout stream
    try {
      this.alpha =
        this.config.kind === 'doremi'
          ? doremiUpdate(this.alpha, await this.excess(batches), this.config)
          : dogeUpdate(this.alpha, await this.alignment(batches), { lr, mu: this.config.mu });
    } finally {
      model.train(wasTraining);
    }
    this.trajectory.push([...this.alpha]);
    this.options.stream.setWeights(this.weights());
  }

  /** DoReMi's lambda: the clipped per-token excess loss of each domain's probe samples. */
  private async excess(batches: ProbeBatch[]): Promise<number[]> {
    const T = batches[0]!.seqLen;
    const rows = batches.reduce((n, b) => n + b.rows, 0);
    const tokens = new Int32Array(rows * T);
    const targets = new Int32Array(rows * T);
    const mask = new Float32Array(rows * T);
    const rowDomain = new Int32Array(rows);
    let r = 0;
    for (const [d, b] of batches.entries()) {
      tokens.set(b.tokens.subarray(0, b.rows * T), r * T);
      targets.set(b.targets.subarray(0, b.rows * T), r * T);
      mask.set(b.mask.subarray(0, b.rows * T), r * T);
      rowDomain.fill(d, r, r + b.rows);
      r += b.rows;
    }
    const losses = async (m: CausalLM) => {
      const backend = m.parameters()[0]!.backend.name;
      const t = noGrad(() =>
        tidy(() => {
          const ids = tensor(tokens, { shape: [rows, T], dtype: 'int32', backend });
          return m.perSampleLoss(ids, targets, mask).tokenLosses;
        }),
      );
      try {
        return (await t.data()) as Float32Array;
      } finally {
        t.dispose();
      }
    };
    const proxy = await losses(this.options.model);
    const reference = await losses(this.options.reference!);
    return excessLosses(proxy, reference, mask, rowDomain, this.domains.length);
  }

  /** DoGE's W: each domain's probe gradient against the sum of all domains' gradients. */
  private async alignment(batches: ProbeBatch[]): Promise<number[]> {
    const { model } = this.options;
    const params = model.parameters();
    const backend = params[0]!.backend.name;
    const gradients: Float32Array[] = [];
    for (const b of batches) {
      const T = b.seqLen;
      let active = 0;
      for (let i = 0; i < b.rows * T; i++) if (b.mask[i] !== 0) active++;
      model.zeroGrad();
      tidy(() => {
        const ids = tensor(b.tokens.subarray(0, b.rows * T), {
          shape: [b.rows, T],
          dtype: 'int32',
          backend,
        });
        const r = model.perSampleLoss(
          ids,
          b.targets.subarray(0, b.rows * T),
          b.mask.subarray(0, b.rows * T),
        );
        // the domain's mean per-token loss
        r.tokenLosses
          .sum()
          .mul(1 / Math.max(active, 1))
          .backward();
      });
      gradients.push(await flatGradient(params));
    }
    model.zeroGrad();
    return alignmentScores(gradients);
  }

  state(): DomainReweighterState {
    return {
      kind: 'lrw.domain-reweighting',
      version: 1,
      method: this.config.kind,
      alpha: [...this.alpha],
      trajectory: this.trajectory.map((w) => [...w]),
      probes: this.probes.map((p) => p.state()),
    };
  }

  load(state: DomainReweighterState): void {
    if (
      state?.kind !== 'lrw.domain-reweighting' ||
      state.method !== this.config.kind ||
      state.alpha.length !== this.domains.length ||
      state.probes.length !== this.probes.length
    ) {
      throw new TrainerError(
        'checkpoint-mismatch',
        `The checkpoint's domain-reweighting state does not fit this run (${this.config.kind} over ${this.domains.length} domains).`,
        "resume with the run's own config on its own dataset, or start a new run in a new output directory.",
      );
    }
    this.alpha = [...state.alpha];
    this.trajectory = state.trajectory.map((w) => [...w]);
    for (const [i, p] of this.probes.entries()) p.load(state.probes[i] as never);
  }

  /** The output file's contents: the mean weights, the last ones and the trajectory. */
  result(run: string): DomainWeightsFile {
    const k = this.domains.length;
    const mean = new Array<number>(k).fill(0);
    for (const w of this.trajectory) for (let i = 0; i < k; i++) mean[i]! += w[i]!;
    const n = Math.max(this.trajectory.length, 1);
    const { kind, ...hyper } = this.config;
    const { reference, ...hyperparameters } = hyper as typeof hyper & { reference?: string };
    return {
      kind: 'lrw-domain-weights',
      version: 1,
      method: kind,
      weights: named(
        this.domains,
        mean.map((s) => s / n),
      ),
      final: this.weights(),
      steps: this.trajectory.length,
      hyperparameters,
      ...(reference !== undefined ? { reference: resolve(reference) } : {}),
      run,
      trajectory: this.trajectory.map((w, i) => ({ step: i + 1, weights: named(this.domains, w) })),
    };
  }

  async close(): Promise<void> {
    for (const p of this.probes) await p.close();
    this.options.reference?.dispose();
  }
}

// The pre-registered plan of the paper-regime study: every run's config is fixed here, in
// the code, before any run starts. Changing a value after the runs started makes a new study
// (the runner refuses a run directory whose config differs from this plan).

/**
 * Throughput measured before the plan was fixed, gpt2-nano (4 layers, 4 heads, d 128), one
 * training process started with setsid and nice 15 (its own scheduling group) on the shared
 * 2-core machine, at load average 14-16 from the other sessions' builds and tests:
 *   byte tokenizer,  64 x 8:   ~2000 training tokens/s (2900 at load average 7)
 *   GPT-2 tokenizer, 512 x 32: ~130 training tokens/s (500 at load average 7); the 50257-way
 *     head is ~85% of the FLOPs, and one evaluation of the whole validation split (104k
 *     tokens) took ~300 s
 * The budgets below are sized on the loaded numbers: about 8.6 h for the 45 runs with their
 * evaluations (about 4.5 h at load average 7). gpt2-micro (6 layers, d 384) costs ~4.3x nano per
 * GPT-2 token, so nano is the largest model for which the GPT-2 rung finishes in this time.
 */
export const MEASURED_TOKENS_PER_SECOND = { A: 2000, B: 1800, C: 130 };

/** The weighting settings compared in every rung; `uniform` is the baseline. */
export const SETTINGS = [
  { label: 'uniform', method: 'uniform' },
  { label: 'linupper-r0.4', method: 'linupper', r: 0.4 }, // the paper's GPT-2 value
  { label: 'linupper-r1', method: 'linupper', r: 1 },
  { label: 'linupper-r2', method: 'linupper', r: 2 }, // r >= 1/ln 2 keeps the 2/n cap
  { label: 'quadratic-r1', method: 'quadratic', r: 1 }, // the paper's value for Quadratic
];

export const SEEDS = [0, 1, 2];

/** Shares of the steps, as in the paper's GPT-2 runs (LR warm-up 500 of 20k) and the issue. */
export const LR_WARMUP_SHARE = 0.025;
export const REWEIGHT_WARMUP_SHARE = 0.05;

/**
 * The ladder. Each rung has one token budget for all its runs. A and B train on the same
 * number of tokens (393,216: 1.5x the demo's), so they differ only in the sample shape (and so
 * in how many tokens a per-sample loss averages); C adds the GPT-2 tokenizer and the paper's
 * sample length, at the budget this machine allows: 8 steps (131,072 tokens, ~0.5 MB of text),
 * far too few to say anything about the paper's 20k steps, and reported as such.
 * `evalBatches`: validation batches of the evaluations during training (one per domain: for
 * the curves); null: the whole split (C evaluates only at the end, and that evaluation is its
 * final number). A and B get their final numbers from a separate pass over the whole split.
 */
export const RUNGS = [
  {
    id: 'A',
    title: "the demo's regime: 64-byte samples, batch 8",
    tokenizer: 'byte',
    model: 'nano',
    seqLen: 64,
    batchSize: 8,
    steps: 768,
    evalInterval: 96,
    evalBatches: 9,
    checkpointInterval: 128,
  },
  {
    id: 'B',
    title: "256-byte samples, batch 32 (the paper's batch)",
    tokenizer: 'byte',
    model: 'nano',
    seqLen: 256,
    batchSize: 32,
    steps: 48,
    evalInterval: 12,
    evalBatches: 9,
    checkpointInterval: 8,
  },
  {
    id: 'C',
    title: "512 GPT-2 tokens, batch 32 (the paper's sample shape and tokenizer)",
    tokenizer: 'gpt2',
    model: 'nano',
    seqLen: 512,
    batchSize: 32,
    steps: 8,
    evalInterval: 0,
    evalBatches: null,
    checkpointInterval: 2,
  },
];

/** Shared optimisation settings (the paper's, except the peak LR: the demo's 2e-3 for nano). */
export const COMMON = {
  peakLr: 2e-3,
  endLrRatio: 0.2, // 5e-4 -> 1e-4 in the paper
  keepCheckpoints: 1,
};

/** Data of the study (see data.mjs): text per domain and the validation share. */
export const DATA = {
  maxBytesPerDomain: 256 * 1024,
  validationFraction: 0.15,
  splitSeed: 0,
  /** Seed of the shuffle that picks SpamAssassin messages up to the byte budget. */
  mailSeed: 0,
};

/**
 * The pre-registered analysis. Primary outcome: the mean over the nine training domains of
 * the final validation perplexity (the whole validation split), per rung. For each setting and
 * seed, the paired difference from uniform with the same seed (same initialisation and data
 * order); over the 3 seeds its mean, standard deviation and 95% Student-t interval
 * (t_{0.975,2} = 4.303). A difference "is resolved" when its interval excludes 0. Secondary:
 * the same per domain and on the held-out web text (Dolma CC, never trained on), and the
 * effective sample size of the weights. Every run is reported; none is dropped.
 */
export const ANALYSIS = {
  primary: 'mean validation perplexity over the training domains',
  confidence: 0.95,
  baseline: 'uniform',
};

function round(x) {
  return Math.max(1, Math.round(x));
}

/** The trainer config of one run (a @lrw/trainer TrainerConfigInput). */
export function runConfig(rung, setting, seed) {
  const lrWarmup = round(rung.steps * LR_WARMUP_SHARE);
  const config = {
    model: rung.model,
    seqLen: rung.seqLen,
    batchSize: rung.batchSize,
    steps: rung.steps,
    lr: {
      kind: 'cosine',
      peakLr: COMMON.peakLr,
      endLr: COMMON.peakLr * COMMON.endLrRatio,
      warmupSteps: lrWarmup,
    },
    method: setting.method,
    domainWeights: 'uniform',
    evalInterval: rung.evalInterval,
    checkpointInterval: rung.checkpointInterval,
    keepCheckpoints: COMMON.keepCheckpoints,
    seed,
    backend: 'cpu',
  };
  if (setting.method !== 'uniform') {
    config.temperature = {
      kind: 'plain-mean-warmup',
      warmupSteps: round(rung.steps * REWEIGHT_WARMUP_SHARE),
      // biome-ignore lint/suspicious/noThenProperty: the trainer's temperature schedule names it
      then: { kind: 'constant', r: setting.r },
    };
  }
  return config;
}

/**
 * Every run of a plan, in the order they are trained: rung by rung (the cheap rungs finish
 * first and are complete on their own), within a rung seed by seed, so that the runs done at
 * any moment form complete pairs with uniform.
 */
export function planRuns(plan = FULL_PLAN) {
  const runs = [];
  for (const rung of plan.rungs) {
    for (const seed of rung.seeds ?? plan.seeds) {
      for (const setting of plan.settings) {
        runs.push({
          rung: rung.id,
          label: setting.label,
          seed,
          name: `${rung.id}/${setting.label}-s${seed}`,
          tokenizer: rung.tokenizer,
          tokens: rung.steps * rung.seqLen * rung.batchSize,
          evalBatches: rung.evalBatches,
          config: runConfig(rung, setting, seed),
        });
      }
    }
  }
  return runs;
}

export const FULL_PLAN = {
  name: 'full',
  rungs: RUNGS,
  seeds: SEEDS,
  settings: SETTINGS,
  data: DATA,
  tokensPerSecond: MEASURED_TOKENS_PER_SECOND,
};

/**
 * The CI version: the same code path (data, training, resume, evaluation, report) with a
 * 1-layer d-16 model, a few steps and a few KiB of text per domain. (Not pre-registered: a
 * test of the machinery, whose numbers mean nothing.)
 */
export const TINY_PLAN = {
  name: 'tiny',
  rungs: [
    {
      id: 'A',
      title: 'tiny byte rung',
      tokenizer: 'byte',
      model: 'nano',
      seqLen: 16,
      batchSize: 4,
      steps: 6,
      evalInterval: 3,
      evalBatches: 9,
      checkpointInterval: 3,
    },
    {
      id: 'C',
      title: 'tiny GPT-2 rung',
      tokenizer: 'gpt2',
      model: 'nano',
      seqLen: 16,
      batchSize: 4,
      steps: 4,
      evalInterval: 0,
      evalBatches: null,
      checkpointInterval: 2,
      // one seed: the report must say that no interval exists
      seeds: [0],
    },
  ],
  seeds: [0, 1],
  settings: [SETTINGS[0], SETTINGS[1]],
  data: { ...DATA, maxBytesPerDomain: 4 * 1024, validationFraction: 0.3 },
  modelOverrides: { nLayers: 1, nHeads: 2, dModel: 16 },
  tokensPerSecond: { A: 1000, C: 500 },
};

/**
 * The records of a run's `metrics.jsonl`, one JSON object per line. Training steps and
 * evaluations share the file and are told apart by `kind`. JSON has no NaN or Infinity, so a
 * non-finite number is written as null (a skipped step says why in `skipped`).
 */

/** Weight statistics of one step (spec section 8; computed by @lrw/strategies' weightStats). */
export interface WeightStatsRecord {
  /** n * max_i w_i: 1 for uniform weights; the 2/n cap of Theorem 1 is 2. */
  maxWeightTimesN: number;
  /** Whether max_i w_i <= 2/n held at this step. */
  capHolds: boolean;
  /** Effective sample size 1 / sum_i w_i^2, between 1 and n. */
  effectiveSampleSize: number;
  /** Weight entropy in nats, between 0 and ln n. */
  entropy: number;
  /** Number of weighted samples (the global batch, less excluded ones). */
  n?: number;
}

export type SkipReason = 'non-finite-loss' | 'non-finite-grad' | 'loss-spike' | 'grad-spike';

export interface TrainStepRecord {
  kind: 'train';
  /** Optimizer steps completed, counting this one (1 for the first update). */
  step: number;
  /** The objective sum_i w_i l_i the update used (equals meanLoss for uniform). */
  loss: number | null;
  /** Plain mean of the per-sample losses. */
  meanLoss: number | null;
  /** Mean per-sample loss of each domain present in the batch. */
  domainLoss?: Record<string, number | null>;
  lr: number;
  /** Gradient norm before clipping. */
  gradNorm?: number | null;
  tokensPerSecond?: number;
  /** Tokens trained on so far. */
  tokens?: number;
  /** Seconds since the run (not this process) started. */
  elapsedSeconds?: number;
  /** Temperature r of this step (Infinity during a plain-mean warm-up: written as null). */
  r?: number | null;
  weights?: WeightStatsRecord;
  /** rho_hat = sum_i w_i l_i - mean(l) (spec section 8). */
  rhoHat?: number | null;
  /** Present when the update was skipped, with the reason. */
  skipped?: SkipReason;
  /** The domain mixture the step's batch was drawn from (online domain reweighting). */
  domainWeights?: Record<string, number>;
}

export interface EvalRecord {
  kind: 'eval';
  /** Optimizer steps completed when the evaluation ran. */
  step: number;
  /** Mean validation loss over domains (nats per token). */
  loss: number;
  domainLoss: Record<string, number>;
  domainPerplexity: Record<string, number>;
}

export type MetricsRecord = TrainStepRecord | EvalRecord;

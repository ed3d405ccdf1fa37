import type { SkipReason } from './metrics-record.js';
import { TrainerError } from './trainer-error.js';

/**
 * Decides, step by step, whether an update may be applied (llm.c-style spike handling,
 * train_gpt2.cu: skip the update on a non-finite loss or gradient norm, or when the loss or
 * the gradient norm is an outlier by z-score against a window of recent steps).
 *
 * A pure state machine: `observe` takes the step's loss and gradient norm and returns
 * update / skip / stop; the caller applies or skips the optimizer step. After
 * `maxConsecutiveBad` skipped steps in a row it returns `stop` with an error to throw.
 * As in llm.c, z-scores are NaN (never a spike) until the window is full, and every finite
 * value enters the window, spikes included, so a lasting shift in scale stops being a spike.
 */
export interface StepGuardOptions {
  /** Stop after this many skipped steps in a row. Default 5. */
  maxConsecutiveBad?: number;
  /** Skip when the loss z-score exceeds this; undefined (default) turns the check off. */
  lossZThreshold?: number;
  /** Skip when the gradient-norm z-score exceeds this; undefined (default) turns it off. */
  gradNormZThreshold?: number;
  /** Number of recent steps the z-scores are measured against. Default 128 (llm.c). */
  window?: number;
}

export interface StepGuardState {
  consecutiveBad: number;
  totalSkipped: number;
  losses: number[];
  gradNorms: number[];
}

export type StepVerdict =
  | { action: 'update'; lossZ: number; gradNormZ: number }
  | { action: 'skip'; reason: SkipReason; consecutiveBad: number; lossZ: number; gradNormZ: number }
  | { action: 'stop'; reason: SkipReason; consecutiveBad: number; error: TrainerError };

function zScore(window: readonly number[], size: number, value: number): number {
  if (window.length < size) return Number.NaN;
  let mean = 0;
  for (const v of window) mean += v;
  mean /= window.length;
  let variance = 0;
  for (const v of window) variance += (v - mean) * (v - mean);
  const std = Math.sqrt(variance / window.length);
  return std > 0 ? (value - mean) / std : value === mean ? 0 : Number.POSITIVE_INFINITY;
}

const REASON_TEXT: Record<SkipReason, string> = {
  'non-finite-loss': 'the loss was NaN or infinite',
  'non-finite-grad': 'the gradient norm was NaN or infinite',
  'loss-spike': 'the loss spiked (z-score above lossZThreshold)',
  'grad-spike': 'the gradient norm spiked (z-score above gradNormZThreshold)',
};

export class StepGuard {
  readonly maxConsecutiveBad: number;
  readonly lossZThreshold: number | undefined;
  readonly gradNormZThreshold: number | undefined;
  readonly window: number;
  private s: StepGuardState = { consecutiveBad: 0, totalSkipped: 0, losses: [], gradNorms: [] };

  constructor(options: StepGuardOptions = {}) {
    this.maxConsecutiveBad = options.maxConsecutiveBad ?? 5;
    this.lossZThreshold = options.lossZThreshold;
    this.gradNormZThreshold = options.gradNormZThreshold;
    this.window = options.window ?? 128;
    const check = (field: string, value: number | undefined, min: number, integer: boolean) => {
      if (value === undefined) return;
      if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
        throw new TrainerError(
          'invalid-argument',
          `StepGuard: ${field} = ${String(value)} is invalid.`,
          `pass a ${integer ? 'whole number' : 'number'} >= ${min}${field.endsWith('Threshold') ? ', or leave it out to turn the check off' : ''}.`,
        );
      }
    };
    check('maxConsecutiveBad', this.maxConsecutiveBad, 1, true);
    check('window', this.window, 2, true);
    check('lossZThreshold', this.lossZThreshold, 0, false);
    check('gradNormZThreshold', this.gradNormZThreshold, 0, false);
  }

  /**
   * Judges step `step` (1-based, the update about to be applied) from its loss and gradient
   * norm before clipping (leave it out when the caller does not measure it).
   */
  observe(step: number, loss: number, gradNorm?: number): StepVerdict {
    let reason: SkipReason | undefined;
    let lossZ = Number.NaN;
    let gradNormZ = Number.NaN;
    if (!Number.isFinite(loss)) reason = 'non-finite-loss';
    else if (gradNorm !== undefined && !Number.isFinite(gradNorm)) reason = 'non-finite-grad';
    else {
      lossZ = zScore(this.s.losses, this.window, loss);
      this.push(this.s.losses, loss);
      if (gradNorm !== undefined) {
        gradNormZ = zScore(this.s.gradNorms, this.window, gradNorm);
        this.push(this.s.gradNorms, gradNorm);
      }
      if (this.lossZThreshold !== undefined && lossZ > this.lossZThreshold) reason = 'loss-spike';
      else if (this.gradNormZThreshold !== undefined && gradNormZ > this.gradNormZThreshold) {
        reason = 'grad-spike';
      }
    }
    if (reason === undefined) {
      this.s.consecutiveBad = 0;
      return { action: 'update', lossZ, gradNormZ };
    }
    this.s.consecutiveBad++;
    this.s.totalSkipped++;
    const consecutiveBad = this.s.consecutiveBad;
    if (consecutiveBad >= this.maxConsecutiveBad) {
      const error = new TrainerError(
        'too-many-bad-steps',
        `Training stopped at step ${step}: ${consecutiveBad} updates in a row were skipped; at this step ${REASON_TEXT[reason]} (loss ${loss}, gradient norm ${gradNorm}).`,
        'resume from the last checkpoint with a lower learning rate (or a longer warm-up), ' +
          'check the data for empty or corrupt samples, or raise maxConsecutiveBad.',
      );
      return { action: 'stop', reason, consecutiveBad, error };
    }
    return { action: 'skip', reason, consecutiveBad, lossZ, gradNormZ };
  }

  private push(window: number[], value: number): void {
    window.push(value);
    if (window.length > this.window) window.shift();
  }

  /** Skipped updates in a row so far. */
  get consecutiveBad(): number {
    return this.s.consecutiveBad;
  }

  /** Skipped updates since the run started (survives resume through state()). */
  get totalSkipped(): number {
    return this.s.totalSkipped;
  }

  state(): StepGuardState {
    return structuredClone(this.s);
  }

  load(state: StepGuardState): void {
    const ok =
      typeof state === 'object' &&
      state !== null &&
      Number.isInteger(state.consecutiveBad) &&
      Number.isInteger(state.totalSkipped) &&
      Array.isArray(state.losses) &&
      Array.isArray(state.gradNorms);
    if (!ok) {
      throw new TrainerError(
        'invalid-argument',
        'StepGuard.load: the state is not { consecutiveBad, totalSkipped, losses, gradNorms }.',
        'pass the object StepGuard.state() returned (as saved in the checkpoint).',
      );
    }
    this.s = structuredClone(state);
  }
}

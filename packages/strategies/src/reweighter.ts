import { computeWeights } from './compute-weights.js';
import { ReweightError } from './errors.js';
import { checkNonFiniteOption } from './inclusion.js';
import { checkNormalizeOptions, DEFAULT_DELTA, DEFAULT_EPSILON } from './normalize.js';
import {
  checkSchedule,
  constantTemperature,
  type TemperatureSchedule,
  type TemperatureScheduleConfig,
} from './schedules.js';
import { checkStrategy, type Strategy } from './strategies.js';
import { type WeightStats, weightStats } from './weight-stats.js';

export interface ReweighterOptions {
  strategy: Strategy;
  /** A schedule, or a number for a constant temperature. */
  schedule: TemperatureSchedule | number;
  delta?: number;
  epsilon?: number;
  /** See `InclusionOptions.nonFinite`. Default 'error'. */
  nonFinite?: 'error' | 'zero';
}

export interface ReweighterResult {
  weights: Float64Array;
  /** The temperature used at this step (Infinity during a plain-mean warm-up). */
  r: number;
  /** True when the weights are uniform because the schedule returned r = Infinity. */
  plainMean: boolean;
  stats: WeightStats;
}

/** Running totals since the start of training, for the report of spec section 8. */
export interface ReweighterTotals {
  steps: number;
  /** Steps whose weights broke the 2/n cap. */
  capBreaks: number;
  /** capBreaks / steps (0 before the first step). */
  capBreakFraction: number;
  /** Non-finite losses given weight 0 so far (with nonFinite: 'zero'). */
  nonFinite: number;
  /** Last step seen, or -1. */
  lastStep: number;
}

export interface ReweighterState {
  kind: 'lrw.reweighter';
  version: 1;
  strategy: string;
  schedule: TemperatureScheduleConfig;
  delta: number;
  epsilon: number;
  steps: number;
  capBreaks: number;
  nonFinite: number;
  lastStep: number;
}

/**
 * A small stateful helper for a training loop: holds the strategy and the temperature schedule,
 * returns the weights and their statistics for each step's (global) losses, and keeps the
 * running count of cap breaks. `state()` / `load(state)` go into checkpoints.
 *
 * @example
 * const rw = new Reweighter({
 *   strategy: 'linupper',
 *   schedule: plainMeanWarmup(1000, constantTemperature(0.4)),
 * });
 * const { weights, stats } = rw.weigh(lossesOfThisStep, step); // train on sum w_i l_i
 * checkpoint.reweighter = rw.state(); // later: rw.load(checkpoint.reweighter)
 */
export class Reweighter {
  declare readonly strategy: Strategy;
  declare readonly schedule: TemperatureSchedule;
  declare readonly delta: number;
  declare readonly epsilon: number;
  declare readonly nonFinite: 'error' | 'zero';
  /** The running totals: steps, capBreaks, nonFinite, lastStep. */
  private counts = { steps: 0, capBreaks: 0, nonFinite: 0, lastStep: -1 };

  constructor(options: ReweighterOptions) {
    const { strategy, schedule } = options;
    checkStrategy(strategy);
    this.strategy = strategy;
    this.schedule = typeof schedule === 'number' ? constantTemperature(schedule) : schedule;
    checkSchedule(this.schedule, 'schedule (or a number r)');
    this.delta = options.delta ?? DEFAULT_DELTA;
    this.epsilon = options.epsilon ?? DEFAULT_EPSILON;
    checkNormalizeOptions(this.delta, this.epsilon);
    this.nonFinite = checkNonFiniteOption(options.nonFinite);
  }

  /** Weights and statistics for the losses of optimizer step `step`. */
  weigh(
    losses: ArrayLike<number>,
    step: number,
    options: { active?: ArrayLike<number | boolean> } = {},
  ): ReweighterResult {
    const r = this.schedule(step);
    const plainMean = r === Infinity;
    const weights = computeWeights(losses, {
      strategy: plainMean ? 'uniform' : this.strategy,
      r,
      delta: this.delta,
      epsilon: this.epsilon,
      nonFinite: this.nonFinite,
      active: options.active,
    });
    const stats = weightStats(weights, losses, options);
    const c = this.counts;
    c.steps++;
    if (!stats.capHolds) c.capBreaks++;
    c.nonFinite += stats.nonFiniteCount;
    c.lastStep = step;
    return { weights, r, plainMean, stats };
  }

  totals(): ReweighterTotals {
    const c = this.counts;
    return { ...c, capBreakFraction: c.steps > 0 ? c.capBreaks / c.steps : 0 };
  }

  state(): ReweighterState {
    return {
      kind: 'lrw.reweighter',
      version: 1,
      strategy: typeof this.strategy === 'function' ? 'custom' : this.strategy,
      schedule: this.schedule.config,
      delta: this.delta,
      epsilon: this.epsilon,
      ...this.counts,
    };
  }

  /**
   * Restores the running totals from `state()`. The strategy, schedule, delta and epsilon are
   * configuration, not state: they must match this Reweighter's, otherwise resuming would
   * silently change the training objective.
   */
  load(state: ReweighterState): void {
    const ours = this.state();
    const invalid = (message: string) => new ReweightError('invalid-state', message);
    for (const field of ['kind', 'version', 'strategy', 'schedule', 'delta', 'epsilon'] as const) {
      const saved = JSON.stringify(state?.[field]);
      const want = JSON.stringify(ours[field]);
      if (saved !== want) {
        throw invalid(
          `checkpoint ${field} ${saved} differs from ${want}: pass what Reweighter.state() ` +
            'returned to a Reweighter with the same options.',
        );
      }
    }
    const counts = { ...this.counts };
    for (const field of ['steps', 'capBreaks', 'nonFinite', 'lastStep'] as const) {
      const v = state[field];
      const min = field === 'lastStep' ? -1 : 0;
      if (!Number.isInteger(v) || v < min) {
        throw invalid(`checkpoint ${field} = ${v} must be an integer >= ${min}: it is corrupt.`);
      }
      counts[field] = v;
    }
    this.counts = counts;
  }
}

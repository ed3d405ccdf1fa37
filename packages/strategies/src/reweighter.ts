import { computeWeights } from './compute-weights.js';
import { ReweightError } from './errors.js';
import { checkNonFiniteOption } from './inclusion.js';
import { checkNormalizeOptions, DEFAULT_DELTA, DEFAULT_EPSILON } from './normalize.js';
import {
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
  readonly strategy: Strategy;
  readonly schedule: TemperatureSchedule;
  readonly delta: number;
  readonly epsilon: number;
  readonly nonFinite: 'error' | 'zero';
  private steps = 0;
  private capBreaks = 0;
  private nonFiniteTotal = 0;
  private lastStep = -1;

  constructor(options: ReweighterOptions) {
    checkStrategy(options.strategy);
    this.strategy = options.strategy;
    this.schedule =
      typeof options.schedule === 'number'
        ? constantTemperature(options.schedule)
        : options.schedule;
    if (typeof this.schedule !== 'function' || this.schedule.config === undefined) {
      throw new ReweightError(
        'invalid-option',
        'schedule must be a number (constant r) or a schedule such as constantTemperature(0.4).',
      );
    }
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
    this.steps++;
    if (!stats.capHolds) this.capBreaks++;
    this.nonFiniteTotal += stats.nonFiniteCount;
    this.lastStep = step;
    return { weights, r, plainMean, stats };
  }

  totals(): ReweighterTotals {
    return {
      steps: this.steps,
      capBreaks: this.capBreaks,
      capBreakFraction: this.steps > 0 ? this.capBreaks / this.steps : 0,
      nonFinite: this.nonFiniteTotal,
      lastStep: this.lastStep,
    };
  }

  private strategyName(): string {
    return typeof this.strategy === 'function' ? 'custom' : this.strategy;
  }

  state(): ReweighterState {
    return {
      kind: 'lrw.reweighter',
      version: 1,
      strategy: this.strategyName(),
      schedule: this.schedule.config,
      delta: this.delta,
      epsilon: this.epsilon,
      steps: this.steps,
      capBreaks: this.capBreaks,
      nonFinite: this.nonFiniteTotal,
      lastStep: this.lastStep,
    };
  }

  /**
   * Restores the running totals from `state()`. The strategy, schedule, delta and epsilon are
   * configuration, not state: they must match this Reweighter's, otherwise resuming would
   * silently change the training objective.
   */
  load(state: ReweighterState): void {
    if (state?.kind !== 'lrw.reweighter' || state.version !== 1) {
      throw new ReweightError(
        'invalid-state',
        `not a Reweighter state (kind ${JSON.stringify(state?.kind)}, version ` +
          `${JSON.stringify(state?.version)}): pass the object returned by Reweighter.state(), ` +
          "version 1, kind 'lrw.reweighter'.",
      );
    }
    const config: [string, unknown, unknown][] = [
      ['strategy', state.strategy, this.strategyName()],
      ['schedule', state.schedule, this.schedule.config],
      ['delta', state.delta, this.delta],
      ['epsilon', state.epsilon, this.epsilon],
    ];
    for (const [field, saved, ours] of config) {
      if (JSON.stringify(saved) !== JSON.stringify(ours)) {
        throw new ReweightError(
          'invalid-state',
          `checkpoint ${field} ${JSON.stringify(saved)} differs from this Reweighter's ` +
            `${JSON.stringify(ours)}: construct it with the checkpoint's ${field} to resume.`,
        );
      }
    }
    for (const field of ['steps', 'capBreaks', 'nonFinite'] as const) {
      const v = state[field];
      if (!Number.isInteger(v) || v < 0) {
        throw new ReweightError(
          'invalid-state',
          `Reweighter state field ${field} = ${String(v)} must be an integer >= 0; the checkpoint is corrupt.`,
        );
      }
    }
    this.steps = state.steps;
    this.capBreaks = state.capBreaks;
    this.nonFiniteTotal = state.nonFinite;
    this.lastStep = state.lastStep;
  }
}

import { checkTemperature, ReweightError, show } from './errors.js';

/**
 * Temperature schedules (spec section 6): pure functions of the optimizer step that return r.
 * Each carries its `config`, a plain JSON object, so a checkpoint can record it and
 * `temperatureSchedule(config)` can rebuild the same function.
 *
 * r = Infinity means uniform weights: `plainMeanWarmup` returns it during the warm-up.
 *
 * @example
 * const r = cosineTemperature({ r0: 10, r: 0.4, startStep: 1000, spanSteps: 5000 });
 * r(0); // 10
 * r(3500); // 5.2
 * r(6000); // 0.4
 */
export type TemperatureScheduleConfig =
  | { kind: 'constant'; r: number }
  | { kind: 'step'; r0: number; r: number; warmupSteps: number }
  | {
      kind: 'linear' | 'cosine' | 'exponential';
      r0: number;
      r: number;
      startStep: number;
      spanSteps: number;
    }
  | { kind: 'plain-mean-warmup'; warmupSteps: number; after: TemperatureScheduleConfig };

export interface TemperatureSchedule {
  (step: number): number;
  readonly config: TemperatureScheduleConfig;
}

export interface AnnealOptions {
  /** Temperature at and before `startStep` (large: near uniform). */
  r0: number;
  /** Temperature at and after `startStep + spanSteps`. */
  r: number;
  /** Number of steps the anneal takes. */
  spanSteps: number;
  /** First step of the anneal. Default 0. */
  startStep?: number;
}

/** Throws unless `value` is a finite number of steps >= 0 (> 0 when `positive`). */
function checkSteps(value: number, where: string, positive?: boolean): void {
  if (typeof value !== 'number' || !(value < Infinity && (positive ? value > 0 : value >= 0))) {
    throw new ReweightError(
      where === 'step' ? 'invalid-step' : 'invalid-option',
      `${where} = ${value} must be a finite number of steps ${positive ? '> 0' : '>= 0'}.`,
    );
  }
}

/** Throws unless `value` is a schedule (a function with its `config`). */
export function checkSchedule(value: unknown, where: string): asserts value is TemperatureSchedule {
  if (typeof value !== 'function' || !('config' in value)) {
    throw new ReweightError(
      'invalid-option',
      `${where} must be a schedule such as constantTemperature(0.4).`,
    );
  }
}

function make(
  config: TemperatureScheduleConfig,
  at: (step: number) => number,
): TemperatureSchedule {
  return Object.assign(
    (step: number) => {
      checkSteps(step, 'step');
      return at(step);
    },
    { config: Object.freeze(config) },
  );
}

/** r at every step. */
export function constantTemperature(r: number): TemperatureSchedule {
  checkTemperature(r);
  return make({ kind: 'constant', r }, () => r);
}

/** r0 for steps < warmupSteps, then r (the Llama reference: r0 = 100 for 2000 steps). */
export function stepTemperature(options: {
  r0: number;
  r: number;
  warmupSteps: number;
}): TemperatureSchedule {
  const { r0, r, warmupSteps } = options;
  checkTemperature(r0, 'r0');
  checkTemperature(r);
  checkSteps(warmupSteps, 'warmupSteps');
  return make({ kind: 'step', r0, r, warmupSteps }, (step) => (step < warmupSteps ? r0 : r));
}

/** r(t) for the fraction t in [0, 1] of the anneal done. */
const CURVES = {
  linear: (r0: number, r: number, t: number) => r0 + (r - r0) * t,
  cosine: (r0: number, r: number, t: number) => r + ((r0 - r) * (1 + Math.cos(Math.PI * t))) / 2,
  exponential: (r0: number, r: number, t: number) => (t >= 1 ? r : r0 * (r / r0) ** t),
};

function anneal(kind: keyof typeof CURVES, options: AnnealOptions): TemperatureSchedule {
  const { r0, r, spanSteps } = options;
  const startStep = options.startStep ?? 0;
  checkTemperature(r0, 'r0', true);
  checkTemperature(r, 'r', true);
  checkSteps(spanSteps, 'spanSteps', true);
  checkSteps(startStep, 'startStep');
  return make({ kind, r0, r, startStep, spanSteps }, (step) =>
    CURVES[kind](r0, r, Math.min(Math.max((step - startStep) / spanSteps, 0), 1)),
  );
}

/** Linear anneal from r0 to r over spanSteps, starting at startStep. */
export const linearTemperature = (options: AnnealOptions): TemperatureSchedule =>
  anneal('linear', options);

/** Cosine anneal from r0 to r: r + (r0 - r) (1 + cos(pi t)) / 2. */
export const cosineTemperature = (options: AnnealOptions): TemperatureSchedule =>
  anneal('cosine', options);

/** Geometric anneal from r0 to r: r0 (r / r0)^t, the same factor per step. */
export const exponentialTemperature = (options: AnnealOptions): TemperatureSchedule =>
  anneal('exponential', options);

/**
 * Plain mean loss (r = Infinity: uniform weights) for steps < warmupSteps, then `after` evaluated
 * at the same absolute step. The GPT-2 reference uses 1000 warm-up steps, then a fixed r.
 */
export function plainMeanWarmup(
  warmupSteps: number,
  after: TemperatureSchedule,
): TemperatureSchedule {
  checkSteps(warmupSteps, 'warmupSteps');
  checkSchedule(after, 'plainMeanWarmup: after');
  return make({ kind: 'plain-mean-warmup', warmupSteps, after: after.config }, (step) =>
    step < warmupSteps ? Infinity : after(step),
  );
}

/** How `temperatureSchedule` rebuilds each kind of config. */
const BUILDERS: Record<string, (config: never) => TemperatureSchedule> = {
  constant: (c: { r: number }) => constantTemperature(c.r),
  step: stepTemperature,
  linear: linearTemperature,
  cosine: cosineTemperature,
  exponential: exponentialTemperature,
  'plain-mean-warmup': (c: { warmupSteps: number; after: TemperatureScheduleConfig }) =>
    plainMeanWarmup(c.warmupSteps, temperatureSchedule(c.after)),
};

/** Rebuilds a schedule from its `config` (e.g. read back from a checkpoint). */
export function temperatureSchedule(config: TemperatureScheduleConfig): TemperatureSchedule {
  const kind = config?.kind;
  if (!Object.hasOwn(BUILDERS, kind)) {
    throw new ReweightError(
      'invalid-state',
      `schedule kind ${show(kind)} is unknown: use one of ` +
        `${Object.keys(BUILDERS).join(', ')}.`,
    );
  }
  return BUILDERS[kind](config as never);
}

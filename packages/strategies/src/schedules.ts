import { checkTemperature, ReweightError } from './errors.js';

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

function checkStep(step: number): void {
  if (typeof step !== 'number' || !Number.isFinite(step) || step < 0) {
    throw new ReweightError(
      'invalid-step',
      `step = ${String(step)} is not a valid optimizer step: pass a finite number >= 0 ` +
        '(the number of optimizer steps taken so far).',
    );
  }
}

function checkSteps(value: number, where: string, allowZero: boolean): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new ReweightError(
      'invalid-option',
      `${where} = ${String(value)} must be a finite number of steps ${allowZero ? '>= 0' : '> 0'}.`,
    );
  }
}

function make(
  config: TemperatureScheduleConfig,
  at: (step: number) => number,
): TemperatureSchedule {
  const schedule = (step: number): number => {
    checkStep(step);
    return at(step);
  };
  return Object.assign(schedule, { config: Object.freeze(config) });
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
  checkSteps(warmupSteps, 'warmupSteps', true);
  return make({ kind: 'step', r0, r, warmupSteps }, (step) => (step < warmupSteps ? r0 : r));
}

/** Fraction t in [0, 1] of the anneal done at `step`. */
function progress(step: number, startStep: number, spanSteps: number): number {
  const t = (step - startStep) / spanSteps;
  return Math.min(Math.max(t, 0), 1);
}

function anneal(
  kind: 'linear' | 'cosine' | 'exponential',
  options: AnnealOptions,
  curve: (r0: number, r: number, t: number) => number,
): TemperatureSchedule {
  const { r0, r, spanSteps } = options;
  const startStep = options.startStep ?? 0;
  for (const [name, value] of [
    ['r0', r0],
    ['r', r],
  ] as const) {
    checkTemperature(value, name);
    if (!Number.isFinite(value)) {
      throw new ReweightError(
        'invalid-temperature',
        `${name} = Infinity cannot be annealed: a ${kind} anneal needs finite r0 and r; ` +
          'use a large finite r0 such as 100 (near uniform), or plainMeanWarmup for exact uniform weights.',
      );
    }
  }
  checkSteps(spanSteps, 'spanSteps', false);
  checkSteps(startStep, 'startStep', true);
  return make({ kind, r0, r, startStep, spanSteps }, (step) =>
    curve(r0, r, progress(step, startStep, spanSteps)),
  );
}

/** Linear anneal from r0 to r over spanSteps, starting at startStep. */
export function linearTemperature(options: AnnealOptions): TemperatureSchedule {
  return anneal('linear', options, (r0, r, t) => r0 + (r - r0) * t);
}

/** Cosine anneal from r0 to r: r + (r0 - r) (1 + cos(pi t)) / 2. */
export function cosineTemperature(options: AnnealOptions): TemperatureSchedule {
  return anneal('cosine', options, (r0, r, t) => r + ((r0 - r) * (1 + Math.cos(Math.PI * t))) / 2);
}

/** Geometric anneal from r0 to r: r0 (r / r0)^t, the same factor per step. */
export function exponentialTemperature(options: AnnealOptions): TemperatureSchedule {
  return anneal('exponential', options, (r0, r, t) => (t >= 1 ? r : r0 * (r / r0) ** t));
}

/**
 * Plain mean loss (r = Infinity: uniform weights) for steps < warmupSteps, then `after` evaluated
 * at the same absolute step. The GPT-2 reference uses 1000 warm-up steps, then a fixed r.
 */
export function plainMeanWarmup(
  warmupSteps: number,
  after: TemperatureSchedule,
): TemperatureSchedule {
  checkSteps(warmupSteps, 'warmupSteps', true);
  if (typeof after !== 'function' || after.config === undefined) {
    throw new ReweightError(
      'invalid-option',
      'plainMeanWarmup(warmupSteps, after): after must be a schedule such as constantTemperature(0.4).',
    );
  }
  return make({ kind: 'plain-mean-warmup', warmupSteps, after: after.config }, (step) =>
    step < warmupSteps ? Infinity : after(step),
  );
}

/** Rebuilds a schedule from its `config` (e.g. read back from a checkpoint). */
export function temperatureSchedule(config: TemperatureScheduleConfig): TemperatureSchedule {
  const c = config as Partial<Record<string, unknown>> & { kind?: unknown };
  switch (config?.kind) {
    case 'constant':
      return constantTemperature(config.r);
    case 'step':
      return stepTemperature(config);
    case 'linear':
      return linearTemperature(config);
    case 'cosine':
      return cosineTemperature(config);
    case 'exponential':
      return exponentialTemperature(config);
    case 'plain-mean-warmup':
      return plainMeanWarmup(config.warmupSteps, temperatureSchedule(config.after));
    default:
      throw new ReweightError(
        'invalid-state',
        `schedule config kind ${JSON.stringify(c?.kind)} is unknown: expected one of 'constant', ` +
          "'step', 'linear', 'cosine', 'exponential', 'plain-mean-warmup'.",
      );
  }
}

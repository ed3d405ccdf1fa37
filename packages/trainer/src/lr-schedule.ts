import { TrainerError } from './trainer-error.js';

/**
 * Learning-rate schedules: pure functions of the optimizer step, rebuilt from a plain JSON
 * config, so a checkpoint records the config and nothing else (there is no hidden state).
 *
 * `step` counts optimizer steps already taken: `lr(0)` is the rate of the first update.
 * Warm-up follows llm.c (train_gpt2.cu): `peak * (step + 1) / warmupSteps`, so the first
 * update already moves (PyTorch/HF's `step / warmupSteps` spends step 0 at lr 0) and step
 * `warmupSteps - 1` reaches the peak. The decay then runs over the remaining
 * `totalSteps - warmupSteps` steps and holds `endLr` from `totalSteps` on.
 *
 * The paper's GPT-2 recipe (spec section 7) is `gpt2PaperLrSchedule(totalSteps)`:
 * 5e-4, 500 warm-up steps, cosine to 1e-4.
 */
export type LrScheduleConfig =
  | { kind: 'constant'; lr: number; warmupSteps?: number }
  | {
      kind: 'cosine' | 'linear';
      peakLr: number;
      endLr: number;
      warmupSteps: number;
      totalSteps: number;
    };

export type LrScheduleKind = LrScheduleConfig['kind'];
export const LR_SCHEDULE_KINDS: readonly LrScheduleKind[] = ['constant', 'cosine', 'linear'];

export interface LrSchedule {
  (step: number): number;
  readonly config: LrScheduleConfig;
}

function bad(field: string, value: unknown, fix: string): TrainerError {
  return new TrainerError(
    'invalid-argument',
    `LR schedule: ${field} = ${JSON.stringify(value) ?? String(value)} is invalid.`,
    fix,
  );
}

function checkRate(field: string, value: unknown, allowZero: boolean): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw bad(
      field,
      value,
      `pass a finite learning rate ${allowZero ? '>= 0' : '> 0'}, e.g. 5e-4.`,
    );
  }
}

function checkSteps(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw bad(field, value, 'pass a whole number of optimizer steps >= 0.');
  }
}

/** Throws a TrainerError naming the field when `config` is not a valid schedule. */
export function checkLrScheduleConfig(config: LrScheduleConfig): void {
  if (typeof config !== 'object' || config === null) {
    throw bad('config', config, `pass an object with kind one of ${LR_SCHEDULE_KINDS.join(', ')}.`);
  }
  if (config.kind === 'constant') {
    checkRate('lr', config.lr, false);
    if (config.warmupSteps !== undefined) checkSteps('warmupSteps', config.warmupSteps);
    return;
  }
  if (config.kind !== 'cosine' && config.kind !== 'linear') {
    throw bad(
      'kind',
      (config as { kind: unknown }).kind,
      `use one of ${LR_SCHEDULE_KINDS.join(', ')}.`,
    );
  }
  checkRate('peakLr', config.peakLr, false);
  checkRate('endLr', config.endLr, true);
  if (config.endLr > config.peakLr) {
    throw bad('endLr', config.endLr, `endLr must be <= peakLr (${config.peakLr}).`);
  }
  checkSteps('warmupSteps', config.warmupSteps);
  checkSteps('totalSteps', config.totalSteps);
  if (config.totalSteps < config.warmupSteps) {
    throw bad(
      'totalSteps',
      config.totalSteps,
      `totalSteps must be >= warmupSteps (${config.warmupSteps}); it is the length of the run.`,
    );
  }
}

function checkStep(step: number): void {
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new TrainerError(
      'invalid-argument',
      `LR schedule: step = ${String(step)} is not an optimizer step.`,
      'pass the number of optimizer steps taken so far, a whole number >= 0.',
    );
  }
}

function warmupFactor(step: number, warmupSteps: number): number {
  return step < warmupSteps ? (step + 1) / warmupSteps : 1;
}

/** Builds the schedule a config describes. */
export function lrSchedule(config: LrScheduleConfig): LrSchedule {
  checkLrScheduleConfig(config);
  const frozen = Object.freeze({ ...config });
  let at: (step: number) => number;
  if (frozen.kind === 'constant') {
    const warmup = frozen.warmupSteps ?? 0;
    at = (step) => frozen.lr * warmupFactor(step, warmup);
  } else {
    const { peakLr, endLr, warmupSteps, totalSteps, kind } = frozen;
    const decaySteps = totalSteps - warmupSteps;
    at = (step) => {
      if (step < warmupSteps) return peakLr * warmupFactor(step, warmupSteps);
      if (decaySteps === 0 || step >= totalSteps) return endLr;
      const progress = (step - warmupSteps) / decaySteps; // in [0, 1)
      const coeff = kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
      return endLr + coeff * (peakLr - endLr);
    };
  }
  const schedule = (step: number): number => {
    checkStep(step);
    return at(step);
  };
  return Object.assign(schedule, { config: frozen });
}

/** The paper's GPT-2 recipe (spec section 7): 5e-4, 500 warm-up steps, cosine to 1e-4. */
export function gpt2PaperLrSchedule(totalSteps = 20_000): LrSchedule {
  return lrSchedule({ kind: 'cosine', peakLr: 5e-4, endLr: 1e-4, warmupSteps: 500, totalSteps });
}

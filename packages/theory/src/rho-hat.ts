import { requireFiniteArray, TheoryInputError } from './errors.js';
import { requireSimplex } from './simplex.js';

/**
 * Tolerance of rhoHat on sum(w) = 1: looser than the calculators' 1e-9 because training
 * weights are often float32 (a float32 softmax over thousands of samples sums to 1 within ~1e-6).
 */
export const RHO_HAT_SIMPLEX_TOLERANCE = 1e-5;

/**
 * The online estimate of the reweighting term for real training:
 * rho_hat = sum_i w_i l_i - mean_i l_i (gaps approximated by losses, i.e. f_i(x*) taken as 0).
 * Positive when the weights favour high-loss samples. The weights must lie on the simplex
 * (nonnegative, summing to 1 within RHO_HAT_SIMPLEX_TOLERANCE); otherwise it throws, naming
 * the sum. Samples with weight exactly 0 that the caller wants excluded (e.g. zero-token
 * samples) should be left out of both arrays.
 */
export function rhoHat(weights: ArrayLike<number>, losses: ArrayLike<number>): number {
  requireFiniteArray('weights', weights);
  requireFiniteArray('losses', losses, weights.length);
  const n = weights.length;
  if (n === 0) throw new TheoryInputError('weights', 'must be a non-empty array');
  requireSimplex('weights', weights, RHO_HAT_SIMPLEX_TOLERANCE);
  const u = 1 / n;
  let rho = 0;
  for (let i = 0; i < n; i++) rho += (weights[i] - u) * losses[i];
  return rho;
}

/** The serialisable state of a RunningAverage. */
export interface RunningAverageState {
  readonly count: number;
  readonly sum: number;
  readonly compensation: number;
  readonly ema: number | null;
  readonly beta: number;
}

/**
 * Running mean (compensated summation, so 1e6 small values do not drift) and, optionally, an
 * exponential moving average of a scalar series such as rho_hat_t. The trainer pushes one
 * value per step and checkpoints `state()`.
 *
 * @example
 * const avg = new RunningAverage({ beta: 0.9 });
 * avg.push(rhoHat(w, losses));
 * avg.mean; avg.ema;
 */
export class RunningAverage {
  private count = 0;
  private sum = 0;
  private compensation = 0;
  private emaValue: number | null = null;
  private readonly beta: number;

  /** beta in [0, 1): the EMA keeps beta of the old value per push (default 0.99). */
  constructor(options: { beta?: number } = {}) {
    const beta = options.beta ?? 0.99;
    if (!(beta >= 0 && beta < 1)) {
      throw new TheoryInputError('beta', `must satisfy 0 <= beta < 1, got ${String(beta)}`);
    }
    this.beta = beta;
  }

  push(value: number): void {
    if (!Number.isFinite(value)) {
      throw new TheoryInputError(
        'value',
        `must be finite, got ${String(value)} (step ${this.count})`,
      );
    }
    // Kahan-Babuska-Neumaier summation.
    const t = this.sum + value;
    if (Math.abs(this.sum) >= Math.abs(value)) this.compensation += this.sum - t + value;
    else this.compensation += value - t + this.sum;
    this.sum = t;
    this.count++;
    this.emaValue =
      this.emaValue === null ? value : this.beta * this.emaValue + (1 - this.beta) * value;
  }

  /** Number of values pushed. */
  get length(): number {
    return this.count;
  }

  /** Mean of every value pushed (NaN before the first). */
  get mean(): number {
    return this.count === 0 ? Number.NaN : (this.sum + this.compensation) / this.count;
  }

  /** Exponential moving average (NaN before the first value; the first value seeds it). */
  get ema(): number {
    return this.emaValue ?? Number.NaN;
  }

  state(): RunningAverageState {
    return {
      count: this.count,
      sum: this.sum,
      compensation: this.compensation,
      ema: this.emaValue,
      beta: this.beta,
    };
  }

  load(state: RunningAverageState): void {
    if (state.beta !== this.beta) {
      throw new TheoryInputError(
        'state.beta',
        `is ${state.beta} but this RunningAverage has beta ${this.beta}; construct it with the saved beta`,
      );
    }
    if (!(Number.isInteger(state.count) && state.count >= 0)) {
      throw new TheoryInputError('state.count', `must be an integer >= 0, got ${state.count}`);
    }
    this.count = state.count;
    this.sum = state.sum;
    this.compensation = state.compensation;
    this.emaValue = state.ema;
  }
}

import { type Condition, condition, fmt } from './bound-result.js';
import { requireFiniteArray, TheoryInputError } from './errors.js';

/**
 * One step of a weighted method: the weights it used and, for the same samples, the loss gaps
 * D_i(x_t) = f_i(x_t) - f_i(x*) >= 0 (under interpolation f_i(x*) = min f_i; when every f_i
 * has minimum 0, as in least squares with a planted solution, the gaps are the losses).
 * For full-batch results the samples are all M of them; for minibatch results they are the
 * b samples of the minibatch B_t.
 */
export interface WeightedStep {
  readonly weights: ArrayLike<number>;
  readonly gaps: ArrayLike<number>;
}

/** Tolerance on sum(w) = 1 and on the cap (weights come from float64 softmaxes). */
export const SIMPLEX_TOLERANCE = 1e-9;

/**
 * The reweighting term of one step, rho = sum_i (w_i - 1/n) D_i: the weighted gap minus the
 * mean gap. It is >= 0 when the weights increase with the gap (Chebyshev's sum inequality).
 */
export function reweightingTerm(weights: ArrayLike<number>, gaps: ArrayLike<number>): number {
  const n = weights.length;
  if (gaps.length !== n) {
    throw new TheoryInputError(
      'gaps',
      `has length ${gaps.length} but weights has length ${n}; pass one gap per weighted sample`,
    );
  }
  // Summed as (w_i - 1/n) D_i so that exactly uniform weights give exactly 0, and the uniform
  // case of every calculator reproduces the classical bound bit for bit.
  const u = 1 / n;
  let rho = 0;
  for (let i = 0; i < n; i++) rho += (weights[i] - u) * gaps[i];
  return rho;
}

/** Sums and hypothesis checks over a history of weighted steps. */
export interface HistoryScan {
  readonly steps: number;
  /** Samples per step (M for full batch, b for a minibatch). */
  readonly samplesPerStep: number;
  /** rho_t for each step. */
  readonly rho: Float64Array;
  readonly sumRho: number;
  /** max over steps of n * max_i w_i (1 for uniform weights). */
  readonly maxCapRatio: number;
  readonly simplex: Condition;
  readonly gapsNonnegative: Condition;
}

export function scanHistory(field: string, steps: readonly WeightedStep[]): HistoryScan {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new TheoryInputError(
      field,
      'must be a non-empty array of { weights, gaps } (one per step)',
    );
  }
  const n = steps[0].weights?.length ?? 0;
  if (n === 0) throw new TheoryInputError(`${field}[0].weights`, 'must be a non-empty array');
  const rho = new Float64Array(steps.length);
  let sumRho = 0;
  let maxCapRatio = 0;
  let simplexFailure: string | null = null;
  let gapFailure: string | null = null;
  for (let t = 0; t < steps.length; t++) {
    const { weights, gaps } = steps[t];
    requireFiniteArray(`${field}[${t}].weights`, weights, n);
    requireFiniteArray(`${field}[${t}].gaps`, gaps, n);
    let sum = 0;
    let maxW = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      sum += w;
      if (w > maxW) maxW = w;
      if (w < 0 && simplexFailure === null) {
        simplexFailure = `step ${t}: weights[${i}] = ${fmt(w)} < 0`;
      }
      if (gaps[i] < 0 && gapFailure === null) {
        gapFailure = `step ${t}: gaps[${i}] = ${fmt(gaps[i])} < 0 (a gap f_i(x) - f_i(x*) cannot be negative under interpolation; pass gaps, or losses when min f_i = 0)`;
      }
    }
    if (Math.abs(sum - 1) > SIMPLEX_TOLERANCE && simplexFailure === null) {
      simplexFailure = `step ${t}: weights sum to ${sum} (must be 1 within ${SIMPLEX_TOLERANCE})`;
    }
    maxCapRatio = Math.max(maxCapRatio, n * maxW);
    rho[t] = reweightingTerm(weights, gaps);
    sumRho += rho[t];
  }
  return {
    steps: steps.length,
    samplesPerStep: n,
    rho,
    sumRho,
    maxCapRatio,
    simplex: condition(
      'simplex',
      simplexFailure === null,
      simplexFailure ?? `weights are nonnegative and sum to 1 at all ${steps.length} steps`,
    ),
    gapsNonnegative: condition(
      'nonnegative gaps',
      gapFailure === null,
      gapFailure ?? 'every gap is >= 0',
    ),
  };
}

/** The cap w_i <= c/n at every step. */
export function capCondition(scan: HistoryScan, c: number): Condition {
  const holds = scan.maxCapRatio <= c * (1 + SIMPLEX_TOLERANCE);
  return condition(
    'weight cap',
    holds,
    holds
      ? `max_t n*max_i w_i = ${fmt(scan.maxCapRatio)} <= c = ${fmt(c)}`
      : `max_t n*max_i w_i = ${fmt(scan.maxCapRatio)} > c = ${fmt(c)}; raise the temperature r (r >= 1/ln(c) caps scores in [0, 1]) or use the cap-free form`,
  );
}

import { type Condition, condition, fmt } from './bound-result.js';
import { requireFiniteArray, TheoryInputError } from './errors.js';
import { requireSimplex, SIMPLEX_TOLERANCE } from './simplex.js';

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
  readonly gapsNonnegative: Condition;
}

/**
 * Scans a history: throws a TheoryInputError when a step's weights are off the simplex (it
 * names the step and the sum), and reports negative gaps as a failed condition.
 */
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
  let gapFailure: string | null = null;
  for (let t = 0; t < steps.length; t++) {
    const { weights, gaps } = steps[t];
    requireFiniteArray(`${field}[${t}].weights`, weights, n);
    requireFiniteArray(`${field}[${t}].gaps`, gaps, n);
    requireSimplex(`${field}[${t}].weights`, weights);
    let maxW = -Infinity;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (w > maxW) maxW = w;
      if (gaps[i] < 0 && gapFailure === null) {
        gapFailure = `step ${t}: gaps[${i}] = ${fmt(gaps[i])} < 0 (a gap f_i(x) - f_i(x*) cannot be negative under interpolation; pass gaps, or losses when min f_i = 0)`;
      }
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
    gapsNonnegative: condition(
      'nonnegative gaps',
      gapFailure === null,
      gapFailure ?? 'every gap is >= 0',
    ),
  };
}

/** The cap w_i <= c/n at every step, with a fix that fits c. */
export function capCondition(scan: HistoryScan, c: number): Condition {
  const holds = scan.maxCapRatio <= c * (1 + SIMPLEX_TOLERANCE);
  const found = `max_t n*max_i w_i = ${fmt(scan.maxCapRatio)}`;
  if (holds) return condition('weight cap', true, `${found} <= c = ${fmt(c)}`);
  let fix: string;
  if (c < 1) {
    // On the simplex max_i w_i >= 1/n, so n*max w >= 1 > c for every weighting.
    fix = `no simplex weights satisfy a cap c < 1 (n*max_i w_i >= 1 always); use c >= 1 (the paper's c = 2)`;
  } else if (c <= 1 + SIMPLEX_TOLERANCE) {
    fix =
      "only uniform weights satisfy c = 1; use uniform weights or a cap c > 1 (the paper's c = 2)";
  } else {
    fix = `raise the temperature r (r >= 1/ln(c) = ${fmt(1 / Math.log(c))} caps scores in [0, 1]), cap the weights (optimalKlWeights with { cap: ${fmt(c)} }), or use the cap-free form`;
  }
  return condition('weight cap', false, `${found} > c = ${fmt(c)}; ${fix}`);
}

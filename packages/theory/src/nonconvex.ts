import { allHold, type BoundResult, condition, fmt } from './bound-result.js';
import { samplingVarianceFactor } from './classical.js';
import {
  requireFiniteArray,
  requireNonNegative,
  requirePositive,
  TheoryInputError,
} from './errors.js';
import { requireSimplex } from './simplex.js';

/**
 * One step of weighted minibatch SGD on a non-convex objective: the weights on B_t and, for
 * the same samples, the alignments a_i = <grad f_i(x_t), grad F(x_t)>.
 */
export interface AlignmentStep {
  readonly weights: ArrayLike<number>;
  readonly alignments: ArrayLike<number>;
}

export interface NonConvexBoundInput {
  readonly L: number;
  readonly eta: number;
  /** Assumption 4: ||grad f_i(x) - grad F(x)|| <= sigma for all i and x. */
  readonly sigma: number;
  /** F(x_0) - inf F. */
  readonly initialGap: number;
  /** M, the number of samples; b = steps[t].weights.length (b = M: full batch, the corollary). */
  readonly datasetSize: number;
  readonly steps: readonly AlignmentStep[];
}

export interface NonConvexTerms {
  readonly initial: number;
  readonly reweighting: number;
  readonly noise: number;
  [key: string]: number;
}

export interface NonConvexScalars {
  readonly initialGap: number;
  readonly eta: number;
  readonly L: number;
  readonly sigma: number;
  readonly steps: number;
  /** sum_{t<T} rho^nc_t */
  readonly sumRho: number;
  /** (1/T) sum_{t<T} min(1, (tau_t + sqrt(v_b))^2), tau_t = sum_i |w_i - 1/b| */
  readonly meanNoise: number;
}

/**
 * The alignment form of the non-convex bound as a formula, 0 < eta < 2/L:
 * (1/T) sum E||grad F(x_t)||^2 <= 2 Delta / (eta (2 - L eta) T)
 *    - (2 (1 - L eta) / (2 - L eta)) (1/T) sum E rho^nc_t
 *    + (L eta / (2 - L eta)) sigma^2 (1/T) sum min(1, (sqrt(E tau_t^2) + sqrt(v_b))^2).
 */
export function nonConvexFormula(s: NonConvexScalars): NonConvexTerms & { bound: number } {
  const d = 2 - s.L * s.eta;
  if (!(d > 0)) {
    return { initial: Number.NaN, reweighting: Number.NaN, noise: Number.NaN, bound: Number.NaN };
  }
  const initial = (2 * s.initialGap) / (s.eta * d * s.steps);
  const reweighting = -((2 * (1 - s.L * s.eta)) / d) * (s.sumRho / s.steps);
  const noise = ((s.L * s.eta) / d) * s.sigma * s.sigma * s.meanNoise;
  return { initial, reweighting, noise, bound: initial + reweighting + noise };
}

/**
 * Validates the scalar inputs and the history shared by the non-convex calculators; returns the
 * minibatch size b (steps[0].weights.length, at most datasetSize).
 */
export function requireNonConvexInput(
  input: {
    readonly L: number;
    readonly eta: number;
    readonly sigma: number;
    readonly initialGap: number;
    readonly datasetSize: number;
    readonly steps: readonly { readonly weights: ArrayLike<number> }[];
  },
  stepShape: string,
): number {
  const { datasetSize, steps } = input;
  requirePositive('L', input.L);
  requirePositive('eta', input.eta);
  requireNonNegative('sigma', input.sigma);
  requireNonNegative('initialGap', input.initialGap);
  if (!(Number.isInteger(datasetSize) && datasetSize >= 1)) {
    throw new TheoryInputError(
      'datasetSize',
      `must be an integer >= 1, got ${String(datasetSize)}`,
    );
  }
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new TheoryInputError('steps', `must be a non-empty array of ${stepShape}`);
  }
  const b = steps[0].weights?.length ?? 0;
  if (b === 0) throw new TheoryInputError('steps[0].weights', 'must be a non-empty array');
  if (b > datasetSize) {
    throw new TheoryInputError(
      'steps[0].weights',
      `has ${b} weights but datasetSize is ${datasetSize}; a minibatch cannot exceed the dataset`,
    );
  }
  return b;
}

/** The noise factor of one step: min(1, (tau + sqrt(v_b))^2). */
export function noiseFactor(tau: number, varianceFactor: number): number {
  // tau = 0 (uniform weights) returns v_b itself, not sqrt(v_b)^2, so the uniform case is the
  // classical bound bit for bit.
  if (tau === 0) return Math.min(1, varianceFactor);
  const s = tau + Math.sqrt(varianceFactor);
  return Math.min(1, s * s);
}

/**
 * Non-convex weighted SGD, alignment form (ours; the paper's Theorem 4 in its gradient-norm
 * form is `theorem4NonConvexSgd`): x_{t+1} = x_t - eta sum_{i in B_t} w_i grad f_i(x_t),
 * F L-smooth (each f_i L-smooth), bounded below, Assumption 4, minibatches of b drawn
 * uniformly without replacement (b = M: full-batch gradient descent, our corollary), any simplex weights,
 * 0 < eta < 2/L. With the alignment term rho^nc_t = sum_{i in B_t} (w_i - 1/b) <grad f_i, grad F>
 * and tau_t = sum_i |w_i - 1/b| (total deviation from uniform):
 *
 *   (1/T) sum_{t<T} E||grad F(x_t)||^2 <= 2 (F(x_0) - inf F) / (eta (2 - L eta) T)
 *       - (2 (1 - L eta)/(2 - L eta)) (1/T) sum_t E rho^nc_t
 *       + (L eta/(2 - L eta)) sigma^2 (1/T) sum_t min(1, (tau_t + sqrt((M - b)/(b (M - 1))))^2).
 *
 * The realised rho_t and tau_t stand for their expectations (exact for deterministic weight
 * rules such as uniform). min_t E||grad F(x_t)||^2 is at most the same bound. For eta < 1/L a
 * positive alignment lowers the bound; for 1/L < eta < 2/L its coefficient changes sign.
 */
export function nonConvexBound(input: NonConvexBoundInput): BoundResult<NonConvexTerms> {
  const { L, eta, sigma, initialGap, datasetSize, steps } = input;
  const b = requireNonConvexInput(input, '{ weights, alignments }');
  const v = samplingVarianceFactor(b, datasetSize);
  const u = 1 / b;
  let sumRho = 0;
  let sumNoise = 0;
  let everyStepUniform = true;
  for (let t = 0; t < steps.length; t++) {
    const { weights, alignments } = steps[t];
    requireFiniteArray(`steps[${t}].weights`, weights, b);
    requireFiniteArray(`steps[${t}].alignments`, alignments, b);
    requireSimplex(`steps[${t}].weights`, weights);
    let rho = 0;
    let tau = 0;
    for (let i = 0; i < b; i++) {
      const w = weights[i];
      rho += (w - u) * alignments[i];
      tau += Math.abs(w - u);
    }
    sumRho += rho;
    sumNoise += noiseFactor(tau, v);
    if (tau !== 0) everyStepUniform = false;
  }
  const T = steps.length;
  const meanNoise = everyStepUniform ? noiseFactor(0, v) : sumNoise / T;
  const t = nonConvexFormula({ initialGap, eta, L, sigma, steps: T, sumRho, meanNoise });
  const uniform = nonConvexFormula({
    initialGap,
    eta,
    L,
    sigma,
    steps: T,
    sumRho: 0,
    meanNoise: noiseFactor(0, v),
  });
  const stepOk = L * eta < 2;
  const conditions = [
    condition(
      'step size',
      stepOk,
      stepOk
        ? `eta*L = ${fmt(eta * L)} < 2`
        : `eta*L = ${fmt(eta * L)} >= 2; use eta < 2/L = ${fmt(2 / L)}`,
    ),
  ];
  return {
    result: b === datasetSize ? 'corollary-nonconvex-gd' : 'nonconvex-sgd-alignment',
    bounds: '(1/T) sum_{t<T} E||grad F(x_t)||^2',
    bound: t.bound,
    terms: { initial: t.initial, reweighting: t.reweighting, noise: t.noise },
    conditions,
    valid: allHold(conditions),
    uniformBound: uniform.bound,
  };
}

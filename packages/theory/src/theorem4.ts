import { allHold, type BoundResult, condition, fmt } from './bound-result.js';
import { samplingVarianceFactor } from './classical.js';
import { requireFiniteArray, TheoryInputError } from './errors.js';
import { noiseFactor, requireNonConvexInput } from './nonconvex.js';
import { requireSimplex } from './simplex.js';

/**
 * One step of weighted minibatch SGD for Theorem 4: the weights on B_t and, for the same
 * samples, the squared gradient norms ||grad f_i(x_t)||^2 the weights are meant to follow.
 */
export interface GradientNormStep {
  readonly weights: ArrayLike<number>;
  readonly gradNormsSq: ArrayLike<number>;
}

export interface Theorem4Input {
  readonly L: number;
  readonly eta: number;
  /** Assumption 4: ||grad f_i(x) - grad F(x)|| <= sigma for all i and x. */
  readonly sigma: number;
  /** F(x_0) - inf F. */
  readonly initialGap: number;
  /** M; the minibatch size b is steps[t].weights.length (b = M is full batch). */
  readonly datasetSize: number;
  readonly steps: readonly GradientNormStep[];
}

export interface Theorem4Terms {
  readonly initial: number;
  /** -((1 - L eta)/(2 - L eta)) avg rho^g_t: negative when weights favour large gradients. */
  readonly reweighting: number;
  /** (|1 - L eta|/(2 - L eta)) sigma^2 avg tau_t / 2: the price of non-uniform weights. */
  readonly deviation: number;
  /** (L eta/(2 - L eta)) sigma^2 avg min(1, (tau_t + sqrt(v_b))^2). */
  readonly noise: number;
  [key: string]: number;
}

export interface Theorem4Scalars {
  readonly initialGap: number;
  readonly eta: number;
  readonly L: number;
  readonly sigma: number;
  readonly steps: number;
  /** sum_{t<T} rho^g_t, rho^g_t = sum_{i in B_t} (w_i - 1/b) ||grad f_i(x_t)||^2. */
  readonly sumRho: number;
  /** (1/T) sum_{t<T} tau_t, tau_t = sum_i |w_i - 1/b|. */
  readonly meanTau: number;
  /** (1/T) sum_{t<T} min(1, (tau_t + sqrt(v_b))^2). */
  readonly meanNoise: number;
}

/** Theorem 4 as a formula of its scalars; NaN unless 0 < eta < 2/L. */
export function theorem4Formula(s: Theorem4Scalars): Theorem4Terms & { bound: number } {
  const d = 2 - s.L * s.eta;
  if (!(d > 0)) {
    const nan = Number.NaN;
    return { initial: nan, reweighting: nan, deviation: nan, noise: nan, bound: nan };
  }
  const sigma2 = s.sigma * s.sigma;
  const initial = (2 * s.initialGap) / (s.eta * d * s.steps);
  const reweighting = -((1 - s.L * s.eta) / d) * (s.sumRho / s.steps);
  const deviation = (Math.abs(1 - s.L * s.eta) / d) * sigma2 * (s.meanTau / 2);
  const noise = ((s.L * s.eta) / d) * sigma2 * s.meanNoise;
  return {
    initial,
    reweighting,
    deviation,
    noise,
    bound: initial + reweighting + deviation + noise,
  };
}

/**
 * Theorem 4 (the paper's, Appendix C.4): non-convex weighted minibatch SGD,
 * x_{t+1} = x_t - eta sum_{i in B_t} w_i grad f_i(x_t), each f_i L-smooth, F bounded below,
 * Assumption 4 (||grad f_i - grad F|| <= sigma), minibatches of b drawn uniformly without
 * replacement, weights set from the gradient norms (any simplex weights are allowed; the
 * reweighting term is measured in squared gradient norms), 0 < eta < 2/L:
 *
 *   (1/T) sum_{t<T} E||grad F(x_t)||^2 <= 2 (F(x_0) - inf F) / (eta (2 - L eta) T)
 *       - ((1 - L eta)/(2 - L eta)) (1/T) sum_t E rho^g_t
 *       + (|1 - L eta|/(2 - L eta)) sigma^2 (1/T) sum_t E tau_t / 2
 *       + (L eta/(2 - L eta)) sigma^2 (1/T) sum_t min(1, (sqrt(E tau_t^2) + sqrt(v_b))^2),
 *
 * with rho^g_t = sum_{i in B_t} (w_i - 1/b) ||grad f_i(x_t)||^2, tau_t = sum_i |w_i - 1/b| and
 * v_b = (M - b)/(b (M - 1)). For eta < 1/L, weights that grow with the gradient norm
 * (rho^g > 0) lower the bound; uniform weights give the classical non-convex SGD bound exactly.
 * Loss-based weights approximate gradient-norm weights through ||grad f_i||^2 <= 2 L (f_i - inf f_i).
 * The realised rho^g_t and tau_t stand for their expectations. Derivation: docs/derivations.md.
 */
export function theorem4NonConvexSgd(input: Theorem4Input): BoundResult<Theorem4Terms> {
  const { L, eta, sigma, initialGap, datasetSize, steps } = input;
  const b = requireNonConvexInput(input, '{ weights, gradNormsSq }');
  const v = samplingVarianceFactor(b, datasetSize);
  const u = 1 / b;
  let sumRho = 0;
  let sumTau = 0;
  let sumNoise = 0;
  let everyStepUniform = true;
  for (let t = 0; t < steps.length; t++) {
    const { weights, gradNormsSq } = steps[t];
    requireFiniteArray(`steps[${t}].weights`, weights, b);
    requireFiniteArray(`steps[${t}].gradNormsSq`, gradNormsSq, b);
    requireSimplex(`steps[${t}].weights`, weights);
    let rho = 0;
    let tau = 0;
    for (let i = 0; i < b; i++) {
      if (gradNormsSq[i] < 0) {
        throw new TheoryInputError(
          `steps[${t}].gradNormsSq[${i}]`,
          `is ${fmt(gradNormsSq[i])} < 0; a squared norm cannot be negative (pass ||grad f_i||^2)`,
        );
      }
      rho += (weights[i] - u) * gradNormsSq[i];
      tau += Math.abs(weights[i] - u);
    }
    sumRho += rho;
    sumTau += tau;
    sumNoise += noiseFactor(tau, v);
    if (tau !== 0) everyStepUniform = false;
  }
  const T = steps.length;
  const meanNoise = everyStepUniform ? noiseFactor(0, v) : sumNoise / T;
  const terms = theorem4Formula({
    initialGap,
    eta,
    L,
    sigma,
    steps: T,
    sumRho,
    meanTau: sumTau / T,
    meanNoise,
  });
  const uniform = theorem4Formula({
    initialGap,
    eta,
    L,
    sigma,
    steps: T,
    sumRho: 0,
    meanTau: 0,
    meanNoise: noiseFactor(0, v),
  });
  const stepOk = L * eta < 2;
  const conditions = [
    condition(
      'step size',
      stepOk,
      stepOk
        ? `eta*L = ${fmt(eta * L)} < 2${eta * L > 1 ? ' (above 1/L the reweighting term changes sign: weights on large gradients raise the bound)' : ''}`
        : `eta*L = ${fmt(eta * L)} >= 2; use eta < 2/L = ${fmt(2 / L)} (eta <= 1/L lets large-gradient weights help)`,
    ),
  ];
  const { bound, ...rest } = terms;
  return {
    result: 'theorem4-nonconvex-sgd',
    bounds: '(1/T) sum_{t<T} E||grad F(x_t)||^2',
    bound,
    terms: rest,
    conditions,
    valid: allHold(conditions),
    uniformBound: uniform.bound,
  };
}

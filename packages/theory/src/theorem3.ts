import { allHold, type BoundResult, condition, fmt } from './bound-result.js';
import { heavyBallFormula } from './convex-formulas.js';
import {
  requireFiniteArray,
  requireNonNegative,
  requirePositive,
  TheoryInputError,
} from './errors.js';
import {
  type CappedBoundInput,
  type ConvexBoundInput,
  type ConvexBoundResult,
  capFreeBound,
  cappedBound,
} from './theorem1.js';
import { reweightingTerm, scanHistory, type WeightedStep } from './weight-history.js';

const SGD = '(1/T) sum_{t<T} E(F(x_t) - F*)';

/*
 * Numbering follows the paper: Theorem 2 (main text, "minibatch SGD with momentum") is
 * restated in Appendix C.3 as Theorem 3 with two parts, (i) minibatch SGD and (ii) minibatch
 * SGD with heavy-ball momentum. The calculators carry the appendix's number.
 */

/**
 * Theorem 3 (i), minibatch SGD, capped form (the paper's). Minibatches B_t of b samples drawn uniformly; the
 * weights live on B_t with w_i <= c/b; 0 < eta < 1/(c L):
 *
 *   (1/T) sum_{t<T} E(F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta (1 - c eta L) T)
 *                                    - (1/(1 - c eta L)) (1/T) sum_{t<T} E rho_t,
 *
 * rho_t = sum_{i in B_t} (w_i - 1/b) D_i(x_t). `steps[t]` holds the b weights and gaps of
 * B_t; the realised rho_t estimate E rho_t. (The inequality also holds path by path with
 * F(x_t) - F* replaced by the minibatch mean gap, whose expectation it is.)
 */
export function theorem3SgdCapped(input: CappedBoundInput): ConvexBoundResult {
  return cappedBound('theorem3-sgd-capped', SGD, input);
}

/**
 * Theorem 3 (i), minibatch SGD, cap-free form (ours): any simplex weights on B_t, 0 < eta < 2/L,
 * kappa = min(1, 2 - eta L):
 *
 *   (1/T) sum_{t<T} E(F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta kappa T) - (1/T) sum_{t<T} E rho_t.
 *
 * Uniform weights give the interpolation rate of SGD, ||x_0 - x*||^2 / (2 eta T), for any b.
 */
export function theorem3SgdCapFree(input: ConvexBoundInput): ConvexBoundResult {
  return capFreeBound('theorem3-sgd-cap-free', SGD, input);
}

/** One heavy-ball step: weights on B_t and the gaps of B_t at x_t and at x_{t-1}. */
export interface HeavyBallStep extends WeightedStep {
  /** D_i(x_{t-1}) for the same samples (at t = 0, x_{-1} = x_0: pass the gaps again). */
  readonly previousGaps: ArrayLike<number>;
}

export interface HeavyBallInput {
  readonly L: number;
  /** Step of the z-sequence in the iterate-moving-average form. */
  readonly eta: number;
  /** Averaging parameter lambda >= 0 (0 is SGD). See `heavyBallFromMomentum`. */
  readonly lambda: number;
  readonly distance0: number;
  /** F(x_0) - F*. */
  readonly initialGap: number;
  readonly steps: readonly HeavyBallStep[];
}

/**
 * Converts the usual heavy-ball form x_{t+1} = x_t - alpha g_t + beta (x_t - x_{t-1}),
 * 0 <= beta < 1, to the iterate-moving-average parameters: lambda = beta / (1 - beta),
 * eta = alpha / (1 - beta) (Sebbouh, Gower & Defazio 2021).
 */
export function heavyBallFromMomentum(
  alpha: number,
  beta: number,
): { eta: number; lambda: number } {
  requirePositive('alpha', alpha);
  if (!(beta >= 0 && beta < 1)) {
    throw new TheoryInputError('beta', `must satisfy 0 <= beta < 1, got ${String(beta)}`);
  }
  return { eta: alpha / (1 - beta), lambda: beta / (1 - beta) };
}

/**
 * Theorem 3 (ii) (the paper's Theorem 2), stochastic heavy ball in iterate-moving-average form:
 * z_{t+1} = z_t - eta g_t, x_{t+1} = (lambda x_t + z_{t+1}) / (1 + lambda), z_0 = x_0,
 * g_t = sum_{i in B_t} w_i grad f_i(x_t). Convex, L-smooth, interpolation, any simplex
 * weights, 0 < eta <= 1/L, lambda >= 0:
 *
 *   (1/T) sum_{t<T} E(F(x_t) - F*) <= (||x_0 - x*||^2 + 2 eta lambda (F(x_0) - F*)) / (2 eta T)
 *                                    - (1/T) sum_{t<T} E((1 + lambda) rho_t - lambda rho'_t),
 *
 * rho'_t = sum_{i in B_t} (w_i - 1/b) D_i(x_{t-1}): the momentum term pays for the current
 * weights on the previous iterate's gaps. For eta > 1/L the bound is NaN and `valid` false.
 */
export function theorem3HeavyBall(input: HeavyBallInput): BoundResult<{
  initial: number;
  reweighting: number;
}> {
  const { L, eta, lambda, distance0, initialGap, steps } = input;
  requirePositive('L', L);
  requirePositive('eta', eta);
  requireNonNegative('lambda', lambda);
  requireNonNegative('distance0', distance0);
  requireNonNegative('initialGap', initialGap);
  const scan = scanHistory('steps', steps);
  let sumRho = 0;
  for (let t = 0; t < steps.length; t++) {
    const s = steps[t];
    requireFiniteArray(`steps[${t}].previousGaps`, s.previousGaps, scan.samplesPerStep);
    sumRho += (1 + lambda) * scan.rho[t] - lambda * reweightingTerm(s.weights, s.previousGaps);
  }
  const T = scan.steps;
  const t = heavyBallFormula({ distance0, L, initialGap, eta, lambda, steps: T, sumRho });
  const uniform = heavyBallFormula({ distance0, L, initialGap, eta, lambda, steps: T, sumRho: 0 });
  const stepOk = eta * L <= 1;
  const conditions = [
    condition(
      'step size',
      stepOk,
      stepOk
        ? `eta*L = ${fmt(eta * L)} <= 1`
        : `eta*L = ${fmt(eta * L)} > 1; use eta <= 1/L = ${fmt(1 / L)} (eta = alpha/(1 - beta))`,
    ),
    scan.gapsNonnegative,
  ];
  return {
    result: 'theorem3-heavy-ball',
    bounds: SGD,
    bound: t.bound,
    terms: { initial: t.initial, reweighting: t.reweighting },
    conditions,
    valid: allHold(conditions),
    uniformBound: uniform.bound,
  };
}

/** @deprecated Renamed to {@link theorem3SgdCapped} (the paper's numbering: Theorem 3 (i)). */
export const theorem2SgdCapped: typeof theorem3SgdCapped = theorem3SgdCapped;
/** @deprecated Renamed to {@link theorem3SgdCapFree} (the paper's numbering: Theorem 3 (i)). */
export const theorem2SgdCapFree: typeof theorem3SgdCapFree = theorem3SgdCapFree;
/** @deprecated Renamed to {@link theorem3HeavyBall} (the paper's Theorem 2, restated as Theorem 3 (ii)). */
export const theorem2HeavyBall: typeof theorem3HeavyBall = theorem3HeavyBall;

import { allHold, type BoundResult, condition, fmt } from './bound-result.js';
import {
  type ConvexTerms,
  capFreeFormula,
  capFreeKappa,
  cappedFormula,
} from './convex-formulas.js';
import { requireNonNegative, requirePositive } from './errors.js';
import { capCondition, scanHistory, type WeightedStep } from './weight-history.js';

/** Inputs shared by the convex calculators (Theorems 1 and 3). */
export interface ConvexBoundInput {
  /** Smoothness constant: every f_i is L-smooth. */
  readonly L: number;
  /** Step size. */
  readonly eta: number;
  /** ||x_0 - x*||. */
  readonly distance0: number;
  /** The weights and gaps of steps t = 0..T-1 (T = steps.length). */
  readonly steps: readonly WeightedStep[];
}

export interface CappedBoundInput extends ConvexBoundInput {
  /** The cap w_i <= c / n; the paper's condition is c = 2 (the default). */
  readonly c?: number;
}

export type ConvexBoundResult = BoundResult<{ initial: number; reweighting: number }>;

function terms(t: ConvexTerms): { initial: number; reweighting: number } {
  return { initial: t.initial, reweighting: t.reweighting };
}

/** @internal shared by Theorems 1 and 3 (same formula; Theorem 3 holds in expectation). */
export function cappedBound(
  result: string,
  bounds: string,
  input: CappedBoundInput,
): ConvexBoundResult {
  const { L, eta, distance0, steps } = input;
  const c = input.c ?? 2;
  requirePositive('L', L);
  requirePositive('eta', eta);
  requirePositive('c', c);
  requireNonNegative('distance0', distance0);
  const scan = scanHistory('steps', steps);
  const T = scan.steps;
  const t = cappedFormula({ distance0, eta, L, c, steps: T, sumRho: scan.sumRho });
  const uniform = cappedFormula({ distance0, eta, L, c: 1, steps: T, sumRho: 0 });
  const stepOk = c * eta * L < 1;
  const conditions = [
    condition(
      'step size',
      stepOk,
      stepOk
        ? `c*eta*L = ${fmt(c * eta * L)} < 1`
        : `c*eta*L = ${fmt(c * eta * L)} >= 1; use eta < 1/(c L) = ${fmt(1 / (c * L))}`,
    ),
    capCondition(scan, c),
    scan.gapsNonnegative,
  ];
  return {
    result,
    bounds,
    bound: t.bound,
    terms: terms(t),
    conditions,
    valid: allHold(conditions),
    uniformBound: uniform.bound,
  };
}

/** @internal shared by Theorems 1 and 3. */
export function capFreeBound(
  result: string,
  bounds: string,
  input: ConvexBoundInput,
): ConvexBoundResult {
  const { L, eta, distance0, steps } = input;
  requirePositive('L', L);
  requirePositive('eta', eta);
  requireNonNegative('distance0', distance0);
  const scan = scanHistory('steps', steps);
  const T = scan.steps;
  const t = capFreeFormula({ distance0, eta, L, steps: T, sumRho: scan.sumRho });
  const uniform = capFreeFormula({ distance0, eta, L, steps: T, sumRho: 0 });
  const stepOk = eta * L < 2;
  const conditions = [
    condition(
      'step size',
      stepOk,
      stepOk
        ? `eta*L = ${fmt(eta * L)} < 2 (kappa = min(1, 2 - eta L) = ${fmt(capFreeKappa(eta, L))})`
        : `eta*L = ${fmt(eta * L)} >= 2; use eta < 2/L = ${fmt(2 / L)} (eta <= 1/L = ${fmt(1 / L)} gives kappa = 1)`,
    ),
    scan.gapsNonnegative,
  ];
  return {
    result,
    bounds,
    bound: t.bound,
    terms: terms(t),
    conditions,
    valid: allHold(conditions),
    uniformBound: uniform.bound,
  };
}

const FULL_BATCH = '(1/T) sum_{t<T} (F(x_t) - F*)';

/**
 * Theorem 1, capped form (the paper's condition c = 2): weighted full-batch gradient descent,
 * each f_i convex and L-smooth, interpolation, weights on the simplex with w_i <= c/M,
 * 0 < eta < 1/(c L):
 *
 *   (1/T) sum_{t<T} (F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta (1 - c eta L) T)
 *                                   - (1/(1 - c eta L)) (1/T) sum_{t<T} rho_t,
 *
 * with rho_t = sum_i (w_i^t - 1/M) D_i(x_t). `steps[t]` holds all M weights and gaps.
 *
 * @example
 * const r = theorem1Capped({ L: 1, eta: 0.25, distance0: 1, steps: [{ weights: [0.5, 0.5], gaps: [1, 2] }] });
 * r.bound; // 1 / (2 * 0.25 * 0.5 * 1) - 0 = 4
 */
export function theorem1Capped(input: CappedBoundInput): ConvexBoundResult {
  return cappedBound('theorem1-capped', FULL_BATCH, input);
}

/**
 * Theorem 1, cap-free form: any weights on the simplex, 0 < eta < 2/L, kappa = min(1, 2 - eta L):
 *
 *   (1/T) sum_{t<T} (F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta kappa T) - (1/T) sum_{t<T} rho_t.
 *
 * It uses per-sample co-coercivity instead of the cap, and dominates the capped form whenever
 * both apply (docs/derivations.md, "What the cap buys").
 */
export function theorem1CapFree(input: ConvexBoundInput): ConvexBoundResult {
  return capFreeBound('theorem1-cap-free', FULL_BATCH, input);
}

/**
 * The scalar formulas behind the convex results (Theorems 1 and 3), as functions of the
 * summed reweighting term. The calculators call these; the verification harness calls them at
 * every T with prefix sums. Derivations: docs/derivations.md.
 */

export interface ConvexTerms {
  /** The initial-distance term (the classical part). */
  readonly initial: number;
  /** Minus the (scaled) averaged reweighting term: negative when weights favour large gaps. */
  readonly reweighting: number;
  readonly bound: number;
}

export interface CappedScalars {
  /** ||x_0 - x*|| */
  readonly distance0: number;
  readonly eta: number;
  readonly L: number;
  /** The cap: w_i <= c / n. */
  readonly c: number;
  readonly steps: number;
  /** sum_{t<T} rho_t */
  readonly sumRho: number;
}

/**
 * Capped form, 0 < eta < 1/(c L):
 * avg_{t<T} (F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta (1 - c eta L) T)
 *                           - (1 / (1 - c eta L)) avg_{t<T} rho_t.
 */
export function cappedFormula(s: CappedScalars): ConvexTerms {
  const a = 1 - s.c * s.eta * s.L;
  if (!(a > 0)) return { initial: Number.NaN, reweighting: Number.NaN, bound: Number.NaN };
  const initial = (s.distance0 * s.distance0) / (2 * s.eta * a * s.steps);
  const reweighting = -s.sumRho / (a * s.steps);
  return { initial, reweighting, bound: initial + reweighting };
}

export interface CapFreeScalars {
  readonly distance0: number;
  readonly eta: number;
  readonly L: number;
  readonly steps: number;
  readonly sumRho: number;
}

/** kappa(eta) = min(1, 2 - eta L): the descent factor of the cap-free form. */
export function capFreeKappa(eta: number, L: number): number {
  return Math.min(1, 2 - eta * L);
}

/**
 * Cap-free form, any simplex weights, 0 < eta < 2/L, kappa = min(1, 2 - eta L):
 * avg_{t<T} (F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta kappa T) - avg_{t<T} rho_t.
 */
export function capFreeFormula(s: CapFreeScalars): ConvexTerms {
  const kappa = capFreeKappa(s.eta, s.L);
  if (!(kappa > 0)) return { initial: Number.NaN, reweighting: Number.NaN, bound: Number.NaN };
  const initial = (s.distance0 * s.distance0) / (2 * s.eta * kappa * s.steps);
  const reweighting = -s.sumRho / s.steps;
  return { initial, reweighting, bound: initial + reweighting };
}

export interface HeavyBallScalars {
  readonly distance0: number;
  /** Smoothness constant: the bound needs eta <= 1/L and is NaN above it. */
  readonly L: number;
  /** F(x_0) - F* */
  readonly initialGap: number;
  readonly eta: number;
  readonly lambda: number;
  readonly steps: number;
  /** sum_{t<T} ((1 + lambda) rho_t - lambda rho'_t) */
  readonly sumRho: number;
}

/**
 * Heavy ball (iterate-moving-average form), 0 < eta <= 1/L, lambda >= 0:
 * avg_{t<T} E(F(x_t) - F*) <= (||x_0 - x*||^2 + 2 eta lambda (F(x_0) - F*)) / (2 eta T)
 *                             - avg_{t<T} E((1 + lambda) rho_t - lambda rho'_t).
 * NaN for eta > 1/L: the derivation needs eta L <= 1 to drop the gradient-norm terms, and
 * random instances violate the formula above that limit.
 */
export function heavyBallFormula(s: HeavyBallScalars): ConvexTerms {
  if (!(s.eta * s.L <= 1)) {
    return { initial: Number.NaN, reweighting: Number.NaN, bound: Number.NaN };
  }
  const initial =
    (s.distance0 * s.distance0 + 2 * s.eta * s.lambda * s.initialGap) / (2 * s.eta * s.steps);
  const reweighting = -s.sumRho / s.steps;
  return { initial, reweighting, bound: initial + reweighting };
}

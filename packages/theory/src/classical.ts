/**
 * The classical (uniform-weight) bounds, written out independently of the weighted
 * calculators so that tests can check the reduction "uniform weights give the classical
 * bound" exactly. Derivations and references: docs/derivations.md.
 */

/**
 * Gradient descent, convex and L-smooth, 0 < eta <= 1/L (e.g. Garrigos & Gower 2023,
 * "Handbook of convergence theorems for (stochastic) gradient methods", Sec. 3):
 * (1/T) sum_{t<T} (F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta T).
 * Under interpolation the same holds in expectation for minibatch SGD with eta <= 1/L_max
 * (per-sample co-coercivity; the interpolation regime of Vaswani, Bach & Schmidt 2019).
 */
export function classicalConvexBound(distance0: number, eta: number, steps: number): number {
  return (distance0 * distance0) / (2 * eta * steps);
}

/**
 * The same method analysed through the growth bound ||grad F||^2 <= 2 L (F - F*) instead of
 * co-coercivity, for 0 < eta < 1/L:
 * (1/T) sum_{t<T} (F(x_t) - F*) <= ||x_0 - x*||^2 / (2 eta (1 - eta L) T).
 * This is the uniform (c = 1) case of Theorem 1's capped form.
 */
export function classicalGrowthBound(
  distance0: number,
  eta: number,
  L: number,
  steps: number,
): number {
  return (distance0 * distance0) / (2 * eta * (1 - eta * L) * steps);
}

/**
 * Stochastic heavy ball in iterate-moving-average form (Sebbouh, Gower & Defazio 2021),
 * z_{t+1} = z_t - eta g_t, x_{t+1} = (lambda x_t + z_{t+1}) / (1 + lambda), z_0 = x_0,
 * convex, interpolation, eta <= 1/L, constant lambda >= 0:
 * (1/T) sum_{t<T} E(F(x_t) - F*) <= (||x_0 - x*||^2 + 2 eta lambda (F(x_0) - F*)) / (2 eta T).
 * lambda = 0 is SGD.
 */
export function classicalHeavyBallBound(
  distance0: number,
  initialGap: number,
  eta: number,
  lambda: number,
  steps: number,
): number {
  return (distance0 * distance0 + 2 * eta * lambda * initialGap) / (2 * eta * steps);
}

/**
 * Non-convex minibatch SGD from the descent lemma (Ghadimi & Lan 2013; Bottou, Curtis &
 * Nocedal 2018, Sec. 4.3, before their simplification 1 - L eta / 2 >= 1/2), 0 < eta < 2/L,
 * minibatches of b out of M drawn without replacement, ||grad f_i - grad F|| <= sigma so that
 * E||g - grad F||^2 <= sigma^2 (M - b) / (b (M - 1)):
 * (1/T) sum_{t<T} E||grad F(x_t)||^2
 *   <= 2 (F(x_0) - F_inf) / (eta (2 - L eta) T) + L eta sigma^2 (M - b) / ((2 - L eta) b (M - 1)).
 * b = M is gradient descent (no noise term).
 */
export function classicalNonConvexBound(
  initialGap: number,
  eta: number,
  L: number,
  sigma: number,
  batchSize: number,
  datasetSize: number,
  steps: number,
): number {
  const variance = samplingVarianceFactor(batchSize, datasetSize);
  return (
    (2 * initialGap) / (eta * (2 - L * eta) * steps) +
    ((L * eta) / (2 - L * eta)) * sigma * sigma * variance
  );
}

/**
 * E||mean over B of v_i||^2 / ((1/M) sum_i ||v_i||^2) for a uniformly drawn subset B of size b
 * (without replacement) of M vectors summing to zero: (M - b) / (b (M - 1)). 0 when b = M.
 */
export function samplingVarianceFactor(batchSize: number, datasetSize: number): number {
  if (datasetSize <= 1) return 0;
  return (datasetSize - batchSize) / (batchSize * (datasetSize - 1));
}

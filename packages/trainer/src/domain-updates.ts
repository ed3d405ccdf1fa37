/**
 * The domain-weight updates of DoReMi and DoGE, as pure functions of host numbers.
 *
 * DoReMi (Xie et al., "DoReMi: Optimizing Data Mixtures Speeds Up Language Model Pretraining",
 * NeurIPS 2023, Algorithm 1): Group DRO over the k domains. Each step, the per-domain excess loss
 * of the proxy over the reference model,
 *   lambda_i = (1 / |tokens of domain i|) * sum over those tokens of max(l_proxy - l_ref, 0),
 * drives an exponentiated-gradient ascent step on the domain weights,
 *   alpha'_i = alpha_i * exp(eta * lambda_i),
 * then a renormalisation and a smoothing with the uniform mixture u = 1/k,
 *   alpha_i <- (1 - c) * alpha'_i / sum_j alpha'_j + c / k.
 * The output is the average of alpha over the steps. Defaults: eta = 1 and c = 1e-3 (the paper's
 * section 2, "Step 2", and its appendix: step size 1, smoothing 1e-3).
 *
 * DoGE (Fan, Pagliardini and Jaggi, "DoGE: Domain Reweighting with Generalization Estimation",
 * ICML 2024, Algorithm 1): a first-order bilevel update on a proxy. With g_i the gradient of
 * domain i's loss at the proxy's current parameters and the generalization objective the mean
 * over the training domains, domain i's score is its alignment with the objective's gradient,
 *   W_i = <g_i, sum_j g_j>,
 * and the weights take a mirror-descent (entropy) step,
 *   alpha_i <- alpha_i * exp(eta_t * W_i / mu) / Z,
 * where eta_t is the proxy's learning rate at step t and mu the strength of the Bregman
 * regulariser. The paper's SlimPajama value of mu is not in lrw's reference material; lrw's
 * default is mu = 1 (the step size is then the proxy's learning rate), our choice, to be set in
 * the config. (Using the mean instead of the sum of the g_j only rescales mu by k.) The output is
 * the average of alpha over the steps, as for DoReMi.
 */

/** DoReMi's hyperparameters (Xie et al. 2023). */
export const DOREMI_DEFAULTS = {
  /** eta: step size of the exponentiated-gradient ascent (paper: 1). */
  stepSize: 1,
  /** c: weight of the uniform mixture in the smoothing (paper: 1e-3). */
  smoothing: 1e-3,
} as const;

/** DoGE's hyperparameters (Fan et al. 2024). */
export const DOGE_DEFAULTS = {
  /**
   * mu: Bregman regulariser of the mirror step; the step size is (proxy learning rate) / mu.
   * lrw's choice (the paper's value for SlimPajama is not in the reference material): 1.
   */
  mu: 1,
} as const;

function check(alpha: readonly number[], scores: readonly number[], what: string): void {
  if (alpha.length === 0 || alpha.length !== scores.length) {
    throw new RangeError(
      `${what}: ${alpha.length} domain weights and ${scores.length} scores; they must be as many, at least 1`,
    );
  }
  for (const [i, s] of scores.entries()) {
    if (!Number.isFinite(s)) throw new RangeError(`${what}: the score of domain ${i} is ${s}`);
  }
  for (const [i, a] of alpha.entries()) {
    if (!(Number.isFinite(a) && a >= 0)) {
      throw new RangeError(`${what}: the weight of domain ${i} is ${a}; weights must be >= 0`);
    }
  }
}

/**
 * alpha_i * exp(step * score_i), normalised to sum 1: computed in log space (shifted by the
 * largest exponent), so large scores do not overflow. A weight of 0 stays 0.
 */
export function exponentiatedGradientStep(
  alpha: readonly number[],
  scores: readonly number[],
  step: number,
): number[] {
  check(alpha, scores, 'exponentiatedGradientStep');
  const logs = alpha.map((a, i) => (a > 0 ? Math.log(a) + step * scores[i]! : -Infinity));
  const top = Math.max(...logs);
  if (top === -Infinity) throw new RangeError('exponentiatedGradientStep: every weight is 0');
  const e = logs.map((l) => Math.exp(l - top));
  const total = e.reduce((s, x) => s + x, 0);
  return e.map((x) => x / total);
}

/** DoReMi's update: exponentiated-gradient ascent on the excess losses, then uniform smoothing. */
export function doremiUpdate(
  alpha: readonly number[],
  excessLosses: readonly number[],
  options: { stepSize?: number; smoothing?: number } = {},
): number[] {
  const eta = options.stepSize ?? DOREMI_DEFAULTS.stepSize;
  const c = options.smoothing ?? DOREMI_DEFAULTS.smoothing;
  const k = alpha.length;
  return exponentiatedGradientStep(alpha, excessLosses, eta).map((a) => (1 - c) * a + c / k);
}

/** DoGE's update: the mirror step on the alignment scores W with step size lr / mu. */
export function dogeUpdate(
  alpha: readonly number[],
  alignment: readonly number[],
  options: { lr: number; mu?: number },
): number[] {
  const mu = options.mu ?? DOGE_DEFAULTS.mu;
  return exponentiatedGradientStep(alpha, alignment, options.lr / mu);
}

/**
 * DoReMi's per-domain excess loss: for each domain, the clipped per-token excess
 * max(proxy - reference, 0) summed over the domain's active tokens, divided by their number
 * (0 for a domain without tokens). `rowDomain[b]` is row b's domain (-1: none); `active` (B*T)
 * marks the tokens that count (nonzero).
 */
export function excessLosses(
  proxy: ArrayLike<number>,
  reference: ArrayLike<number>,
  active: ArrayLike<number>,
  rowDomain: ArrayLike<number>,
  domains: number,
): number[] {
  const B = rowDomain.length;
  const T = B === 0 ? 0 : proxy.length / B;
  const sums = new Float64Array(domains);
  const counts = new Float64Array(domains);
  for (let b = 0; b < B; b++) {
    const d = rowDomain[b]!;
    if (d < 0) continue;
    for (let t = b * T; t < (b + 1) * T; t++) {
      if (active[t] === 0) continue;
      sums[d]! += Math.max(proxy[t]! - reference[t]!, 0);
      counts[d]!++;
    }
  }
  return Array.from(sums, (s, d) => (counts[d]! > 0 ? s / counts[d]! : 0));
}

/** DoGE's scores W_i = <g_i, sum_j g_j> of flat per-domain gradients (float64 sums). */
export function alignmentScores(gradients: readonly ArrayLike<number>[]): number[] {
  const n = gradients[0]?.length ?? 0;
  for (const g of gradients) {
    if (g.length !== n) throw new RangeError('alignmentScores: gradients of different sizes');
  }
  const total = new Float64Array(n);
  for (const g of gradients) for (let p = 0; p < n; p++) total[p]! += g[p]!;
  return gradients.map((g) => {
    let dot = 0;
    for (let p = 0; p < n; p++) dot += g[p]! * total[p]!;
    return dot;
  });
}

/** The mean of the weight vectors (DoReMi's and DoGE's output). */
export function averageWeights(history: readonly (readonly number[])[]): number[] {
  if (history.length === 0) throw new RangeError('averageWeights: no weights to average');
  const k = history[0]!.length;
  const sum = new Float64Array(k);
  for (const w of history) for (let i = 0; i < k; i++) sum[i]! += w[i]!;
  return Array.from(sum, (s) => s / history.length);
}

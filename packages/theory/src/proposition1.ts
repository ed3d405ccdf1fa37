import { requireFiniteArray, requirePositive, TheoryInputError } from './errors.js';
import { requireSimplex } from './simplex.js';

/** The maximiser and maximum of Proposition 1. */
export interface OptimalKlWeights {
  /** w_i = min(cap/M, exp(s_i / r) / Z), Z such that the weights sum to 1. */
  readonly weights: Float64Array;
  /** The optimal value sum_i w_i s_i - r KL(w || uniform) at these weights. */
  readonly value: number;
  /** The cap c of the problem (w_i <= c/M); Infinity for the plain softmax. */
  readonly cap: number;
  /**
   * How many weights sit at the cap. 0 means the plain softmax (Eq. 4) already respects it and
   * is the optimum; k > 0 means the k largest scores are capped and the softmax is not optimal.
   */
  readonly atCap: number;
}

export interface OptimalKlOptions {
  /**
   * The cap c of the constraint w_i <= c/M: the paper's problem (Appendix C.2) keeps Theorem 1's
   * c = 2 (the default). `Infinity` drops the constraint: the plain softmax w ∝ exp(s/r). c must
   * be >= 1 (the simplex has no point with every w_i < 1/M); c = 1 gives uniform weights.
   */
  readonly cap?: number;
}

/**
 * Proposition 1: over the simplex with 0 <= w_i <= c/M (the paper's c = 2 by default),
 * sum_i w_i s_i - r KL(w || uniform) is maximised by the water-filling solution
 * w_i = min(c/M, exp(s_i / r) / Z), with Z >= sum_j exp(s_j / r) such that sum_i w_i = 1: the
 * largest scores sit at the cap, the rest are proportional to exp(s_i / r). Where no weight
 * reaches c/M it is the plain softmax (paper Eq. 4), with value r log((1/M) sum_i exp(s_i / r)).
 * As r -> 0 the weights tend to c/M on the top M/c scores and 0 on the rest (for c = 2 the
 * paper's "discards half of the dataset"); as r -> infinity they become uniform.
 *
 * Computed in O(M log M) with the max subtracted, so large s_i / r do not overflow.
 *
 * @example
 * optimalKlWeights([0, 1], 1, { cap: Infinity }).weights; // [1/(1+e), e/(1+e)]
 * optimalKlWeights([0, 0, 0, 5], 1).weights; // [1/6, 1/6, 1/6, 1/2]: the top score is capped at 2/4
 */
export function optimalKlWeights(
  scores: ArrayLike<number>,
  r: number,
  options: OptimalKlOptions = {},
): OptimalKlWeights {
  requireFiniteArray('scores', scores);
  requirePositive('r', r);
  const cap = options.cap ?? 2;
  if (!(typeof cap === 'number' && cap >= 1)) {
    throw new TheoryInputError(
      'cap',
      `must be a number >= 1 (or Infinity), got ${String(cap)}: the weights sum to 1, so the largest is at least 1/M and no cap below 1/M can hold`,
    );
  }
  const m = scores.length;
  if (m === 0) throw new TheoryInputError('scores', 'must be a non-empty array');
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const sorted = Float64Array.from(order, (i) => scores[i]);
  // suffix[k] = sum_{j >= k} exp((s_(j) - s_(k)) / r) over the scores sorted in decreasing
  // order: the softmax normaliser of the uncapped tail, relative to its largest score.
  const suffix = new Float64Array(m);
  suffix[m - 1] = 1;
  for (let k = m - 2; k >= 0; k--) {
    suffix[k] = 1 + Math.exp((sorted[k + 1] - sorted[k]) / r) * suffix[k + 1];
  }
  const capWeight = cap / m;
  // Water-filling: cap the k largest scores, give the tail the remaining mass 1 - k c/M in
  // proportion to exp(s/r), and stop at the first k where the tail's largest weight is within
  // the cap. The tail's weights only grow as k grows, so the first such k is the KKT point.
  let k = 0;
  let mass = 1;
  while (k < m && mass / suffix[k] > capWeight * (1 + 1e-12)) {
    k++;
    mass = 1 - k * capWeight;
  }
  const weights = new Float64Array(m);
  let value = 0;
  if (k === m) {
    // Only c = 1 caps everything: uniform weights.
    for (let j = 0; j < m; j++) {
      weights[order[j]] = 1 / m;
      value += sorted[j] / m;
    }
    return { weights, value, cap, atCap: m };
  }
  const top = sorted[k];
  for (let j = 0; j < k; j++) {
    weights[order[j]] = capWeight;
    // w s - r w log(M w) with w = c/M.
    value += capWeight * (sorted[j] - r * Math.log(cap));
  }
  for (let j = k; j < m; j++)
    weights[order[j]] = (mass * Math.exp((sorted[j] - top) / r)) / suffix[k];
  // Every tail weight has s_i - r log(M w_i) = r log(Z/M) with
  // Z = sum_tail exp(s/r) / mass, so the tail contributes mass * r log(Z/M).
  value += mass * (top + r * Math.log(suffix[k] / (mass * m)));
  return { weights, value, cap, atCap: k };
}

/**
 * The objective of Proposition 1, sum_i w_i s_i - r KL(w || uniform), with
 * KL(w || uniform) = sum_i w_i log(M w_i) and 0 log 0 = 0. `weights` must lie on the simplex
 * (nonnegative, summing to 1 within 1e-9); anything else throws, naming the sum.
 */
export function klRegularizedObjective(
  weights: ArrayLike<number>,
  scores: ArrayLike<number>,
  r: number,
): number {
  requireFiniteArray('weights', weights);
  requireFiniteArray('scores', scores, weights.length);
  if (!(Number.isFinite(r) && r >= 0)) {
    throw new TheoryInputError('r', `must be a finite number >= 0, got ${String(r)}`);
  }
  requireSimplex('weights', weights);
  const m = weights.length;
  let linear = 0;
  let kl = 0;
  for (let i = 0; i < m; i++) {
    const w = weights[i];
    linear += w * scores[i];
    if (w > 0) kl += w * Math.log(m * w);
  }
  return linear - r * kl;
}

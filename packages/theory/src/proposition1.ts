import { requireFiniteArray, requirePositive, TheoryInputError } from './errors.js';

/** The maximiser and maximum of Proposition 1. */
export interface OptimalKlWeights {
  /** w_i = exp(s_i / r) / sum_j exp(s_j / r). */
  readonly weights: Float64Array;
  /** The optimal value r log((1/M) sum_i exp(s_i / r)). */
  readonly value: number;
}

/**
 * Proposition 1: over the simplex, sum_i w_i s_i - r KL(w || uniform) is maximised by
 * w_i ∝ exp(s_i / r), with optimal value r log((1/M) sum_i exp(s_i / r)). Computed with the
 * max subtracted, so large s_i / r do not overflow. As r -> 0 the weights put all mass on the
 * largest scores (the unregularised optimum); as r -> infinity they become uniform.
 *
 * @example
 * optimalKlWeights([0, 1], 1).weights; // [1/(1+e), e/(1+e)]
 */
export function optimalKlWeights(scores: ArrayLike<number>, r: number): OptimalKlWeights {
  requireFiniteArray('scores', scores);
  requirePositive('r', r);
  const m = scores.length;
  if (m === 0) throw new TheoryInputError('scores', 'must be a non-empty array');
  let max = -Infinity;
  for (let i = 0; i < m; i++) max = Math.max(max, scores[i]);
  const weights = new Float64Array(m);
  let z = 0;
  for (let i = 0; i < m; i++) {
    weights[i] = Math.exp((scores[i] - max) / r);
    z += weights[i];
  }
  for (let i = 0; i < m; i++) weights[i] /= z;
  return { weights, value: max + r * Math.log(z / m) };
}

/**
 * The objective of Proposition 1, sum_i w_i s_i - r KL(w || uniform), with
 * KL(w || uniform) = sum_i w_i log(M w_i) and 0 log 0 = 0. `w` must lie on the simplex.
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
  const m = weights.length;
  let linear = 0;
  let kl = 0;
  for (let i = 0; i < m; i++) {
    const w = weights[i];
    if (w < 0) throw new TheoryInputError(`weights[${i}]`, `must be >= 0, got ${w}`);
    linear += w * scores[i];
    if (w > 0) kl += w * Math.log(m * w);
  }
  return linear - r * kl;
}

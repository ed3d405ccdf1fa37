import { checkLength, ReweightError } from './errors.js';

export interface WeightStats {
  /** Number of weighted samples: finite loss and active (weight-0 exclusions do not count). */
  n: number;
  /** n * max_i w_i: 1 for uniform weights, n when one sample takes all the weight. */
  maxWeightTimesN: number;
  /** Whether max_i w_i <= 2 / n, the condition of Theorem 1 (spec section 8). */
  capHolds: boolean;
  /** Effective sample size 1 / sum_i w_i^2, between 1 and n. */
  effectiveSampleSize: number;
  /** Entropy -sum_i w_i ln w_i in nats, between 0 and ln n. */
  entropy: number;
  /** rho_hat = sum_i w_i l_i - mean(l): how much more weight high losses get than uniform. */
  rhoHat: number;
  /** The objective sum_i w_i l_i. */
  weightedLoss: number;
  /** Plain mean of the losses of the weighted samples. */
  meanLoss: number;
  /** Samples whose loss is NaN or infinite (given weight 0 with `nonFinite: 'zero'`). */
  nonFiniteCount: number;
  /** All samples left out: non-finite losses plus those marked inactive. */
  excludedCount: number;
}

/**
 * Statistics of one step's weights (spec section 8). Samples with a non-finite loss, or marked
 * inactive in `options.active`, are left out of n, the mean loss and rho_hat; their weight must
 * be 0 (as `computeWeights` gives them).
 *
 * @example
 * const losses = [2.1, 2.5, 3.0, 3.3, 4.8, 2.9, 3.1, 2.2];
 * const stats = weightStats(computeWeights(losses, { strategy: 'linupper', r: 0.4 }), losses);
 * stats.maxWeightTimesN; // 2.33: above 2, so stats.capHolds is false
 */
export function weightStats(
  weights: ArrayLike<number>,
  losses: ArrayLike<number>,
  options: { active?: ArrayLike<number | boolean> } = {},
): WeightStats {
  const len = weights.length;
  checkLength(losses, 'losses', len, 'weights', 'pass the losses of these weights.');
  const { active } = options;
  if (active) checkLength(active, 'active', len, 'weights', 'pass one flag per sample.');
  let n = 0;
  let nonFiniteCount = 0;
  let maxW = 0;
  let sumSq = 0;
  let entropy = 0;
  let weightedLoss = 0;
  let lossSum = 0;
  for (let i = 0; i < len; i++) {
    const l = losses[i];
    const w = weights[i];
    const finite = l - l === 0;
    if (!finite) nonFiniteCount++;
    if (!finite || (active && !active[i])) {
      if (w !== 0) {
        throw new ReweightError(
          'invalid-option',
          `weights[${i}] = ${w} but sample ${i} is excluded (loss ${l}): compute the ` +
            'weights with the same options.',
        );
      }
      continue;
    }
    n++;
    if (w > maxW) maxW = w;
    sumSq += w * w;
    if (w > 0) entropy -= w * Math.log(w);
    weightedLoss += w * l;
    lossSum += l;
  }
  const meanLoss = n > 0 ? lossSum / n : 0;
  const maxWeightTimesN = maxW * n;
  return {
    n,
    maxWeightTimesN,
    // A relative 1e-12 slack so exactly-2/n weights (e.g. n = 2, one sample) do not flip on
    // rounding.
    capHolds: maxWeightTimesN <= 2 + 2e-12,
    effectiveSampleSize: sumSq > 0 ? 1 / sumSq : 0,
    entropy,
    rhoHat: weightedLoss - meanLoss,
    weightedLoss,
    meanLoss,
    nonFiniteCount,
    excludedCount: len - n,
  };
}

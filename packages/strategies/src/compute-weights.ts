import { checkLength, checkNotEmpty, checkTemperature } from './errors.js';
import { fastExpInRange } from './fast-exp.js';
import { checkNonFiniteOption, type InclusionOptions, inclusionMask } from './inclusion.js';
import {
  checkNormalizeOptions,
  DEFAULT_DELTA,
  DEFAULT_EPSILON,
  lossRange,
  normalizeInto,
} from './normalize.js';
import { checkStrategy, type Strategy, type StrategyName, scoresInto } from './strategies.js';
import { softmaxInto } from './temperature-softmax.js';

export interface WeightOptions extends InclusionOptions {
  /** A strategy name (see `StrategyName`) or a custom score function of x in [-delta, delta]. */
  strategy: Strategy;
  /** Temperature r > 0 (`kl_reg` in trainer.py, tau in the golden file). Infinity: uniform. */
  r: number;
  /** Half-width of the normalization interval [-delta, delta]. Default 1. */
  delta?: number;
  /** Floor of the loss range in the normalization. Default 1e-6. */
  epsilon?: number;
  /**
   * Write the weights into this `Float64Array` (one entry per loss) and return it instead of
   * allocating a new array: no allocation per call. It may be the losses array itself.
   */
  out?: Float64Array;
}

/**
 * The per-sample weights of paper Eq. 4, summing to 1 over the (global) batch:
 * normalize the losses to [-delta, delta] (skipped for `dro-kl`), score them with the strategy,
 * then take softmax(scores / r). Equal (to rounding) to
 * `temperatureSoftmax(strategyScores(normalizeLosses(l), strategy), r)`, in three passes over
 * the losses for the named strategies.
 *
 * The weights are constants: compute them from detached losses and train on sum_i w_i l_i.
 *
 * @example
 * const w = computeWeights([2.1, 2.5, 4.8], { strategy: 'linupper', r: 0.4 });
 * const objective = w[0] * 2.1 + w[1] * 2.5 + w[2] * 4.8;
 */
export function computeWeights(losses: ArrayLike<number>, options: WeightOptions): Float64Array {
  const { strategy, r } = options;
  const delta = options.delta ?? DEFAULT_DELTA;
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  const n = losses.length;
  checkStrategy(strategy);
  checkTemperature(r);
  checkNormalizeOptions(delta, epsilon);
  checkNotEmpty(n);
  const out = options.out ?? new Float64Array(n);
  checkLength(out, 'out', n, 'losses', 'pass one entry per loss, or omit out.');
  if (
    typeof strategy === 'string' &&
    options.active === undefined &&
    checkNonFiniteOption(options.nonFinite) === 'error'
  ) {
    // Uniform weights are those of r = Infinity: every exponent is then exactly 0.
    return fusedWeights(
      out,
      losses,
      strategy,
      strategy === 'uniform' ? Infinity : r,
      delta,
      epsilon,
    );
  }
  const { mask, count } = inclusionMask(losses, options);
  // `uniform` too: its scores are all 0, so the softmax gives exactly 1 / count (0 if none).
  return generalWeights(out, losses, strategy, r, delta, epsilon, mask, count);
}

/**
 * Every sample included: one pass for the minimum and maximum, one for score and exp, one to
 * divide by the sum. Each named strategy's exponent (s_i - max s) / r is c_i - top with c_i a
 * product, an absolute value or a square of (l_i - center) and `top` known from the extreme
 * losses (an upper bound of the scores for quadratic; the offset cancels in the ratio, and the
 * rare case where that bound underflows every exponent falls back to the exact maximum).
 */
function fusedWeights(
  out: Float64Array,
  losses: ArrayLike<number>,
  strategy: StrategyName,
  r: number,
  delta: number,
  epsilon: number,
): Float64Array {
  const n = losses.length;
  // No per-element finiteness test here (an accumulator would chain every iteration): an
  // infinite loss makes hi - lo infinite or NaN, all NaN leaves lo > hi, and a NaN among finite
  // losses turns the exponential sum below into NaN (`uniform` and r = Infinity: checked here).
  const [lo, hi] = lossRange(losses, null);
  if (!(hi - lo >= 0 && hi - lo < Infinity)) checkFinite(losses);
  // x_i = delta * (2 l_i - hi - lo) / range = a (l_i - center). Subtracting first keeps the
  // precision when the losses are large next to their range.
  const a = (2 * delta) / Math.max(hi - lo, epsilon);
  const center = (hi + lo) / 2;
  const k = a / r;
  // Every exponent below is >= -span (x in [-delta, delta], scores within delta or delta^2 of
  // the top): fastExpInRange needs no underflow test, and the sum is >= exp(-460) = 1e-200.
  // Past 460 (r < delta / 460 for delta = 1), the general path.
  const span = (strategy === 'dro-kl' ? hi - lo : Math.max(delta, delta * delta)) / r;
  let sum = 0;
  if (span < 460) {
    if (strategy === 'quadratic') {
      // 1 - x^2 <= 1, a bound (the maximum sits at the x nearest 0): exponent -x^2 / r.
      sum = expSum(out, losses, center, 0, 0, 0, -a * k);
    } else if (strategy === 'extremes') {
      // max |x| is at an extreme loss: exponent (|x| - max |x|) / r.
      sum = expSum(out, losses, center, 0, k, (k * (hi - lo)) / 2, 0);
    } else {
      // min(z, 0) = (z - |z|) / 2, exactly: linupper's s - max s = min(x, 0) (the top loss has
      // x >= 0); linear's (x - x_max) / 2 = a (l - hi) / 2 <= 0; dro-kl's raw l - hi <= 0.
      const h = (strategy === 'linupper' ? k : strategy === 'linear' ? k / 2 : 1 / r) / 2;
      sum = expSum(out, losses, strategy === 'linupper' ? center : hi, h, -h, 0, 0);
    }
  }
  if (!(sum > 0)) {
    // A NaN loss (the sum is NaN; throw), or a span past 460 (the losses were not touched, so
    // `out` may be the losses): the general path, exact maximum, fastExp with its underflow test.
    checkFinite(losses);
    return generalWeights(out, losses, strategy, r, delta, epsilon);
  }
  const norm = 1 / sum;
  for (let i = 0; i < n; i++) out[i] *= norm;
  return out;
}

// One loop for every named strategy, with a single exp call site, so that TurboFan's inlining
// tree stays small (fusedWeights, this loop, the exp) and the exp is always inlined; and no
// branch on the data (a branch that skipped the exp where min(z, 0) = 0 would mispredict on
// every other sample of a batch).

/** out_i = exp(d_i (u + w d_i) + v |d_i| - top) with d_i = l_i - c; returns the sum. */
function expSum(
  out: Float64Array,
  l: ArrayLike<number>,
  c: number,
  u: number,
  v: number,
  top: number,
  w: number,
): number {
  let sum = 0;
  for (let i = 0; i < l.length; i++) {
    const d = l[i] - c;
    sum += out[i] = fastExpInRange(d * (u + w * d) + v * Math.abs(d) - top);
  }
  return sum;
}

/** Throws the error for the first loss that is NaN or infinite, if any. */
function checkFinite(losses: ArrayLike<number>): void {
  inclusionMask(losses, {});
}

/**
 * Normalize (except `dro-kl`), score, softmax: three kernels, any strategy; included losses
 * finite, excluded ones (mask 0) get weight 0.
 */
function generalWeights(
  out: Float64Array,
  losses: ArrayLike<number>,
  strategy: Strategy,
  r: number,
  delta: number,
  epsilon: number,
  mask: Uint8Array | null = null,
  count = losses.length,
): Float64Array {
  let scores = losses;
  if (strategy !== 'dro-kl') {
    scores = scoresInto(out, normalizeInto(out, losses, mask, delta, epsilon), strategy, mask);
  }
  return softmaxInto(out, scores, r, mask, count);
}

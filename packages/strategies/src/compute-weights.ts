import { checkLength, checkNotEmpty, checkTemperature } from './errors.js';
import { expSteps, STEPS } from './fast-exp.js';
import { checkNonFiniteOption, type InclusionOptions, inclusionMask } from './inclusion.js';
import {
  checkNormalizeOptions,
  DEFAULT_DELTA,
  DEFAULT_EPSILON,
  normalizeInto,
} from './normalize.js';
import { checkStrategy, type Strategy, type StrategyName, scoresInto } from './strategies.js';
import { scaleBy, softmaxInto } from './temperature-softmax.js';

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
 * divide by the sum. Each named strategy's exponent is u d_i + v |d_i| or w d_i^2 with
 * d_i = l_i - c, equal to (s_i - max s) / r up to an offset known from the extreme losses (an
 * upper bound of the scores for quadratic, 0 for extremes; the offset cancels in the ratio, and
 * the rare case where that bound underflows every exponent falls back to the exact maximum).
 *
 * Speed (bench/weights.mjs): the coefficients come scaled to exp steps (`expSteps`), so the exp
 * needs no multiplication by log2(e) and no two-part reduction; the exp loops take two samples
 * per iteration (the scaling four), which halves V8's per-iteration checks and splits the sum's
 * dependency chain. The rounding of the scaled exponent is that of the exponent itself
 * (relative 1e-16), as before the scaling.
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
  // No per-element finiteness test here (an accumulator would chain every iteration): a NaN
  // first loss or an infinite one makes hi - lo NaN or infinite, and a NaN among finite losses
  // turns the exponential sum below into NaN (`uniform` and r = Infinity: checked here).
  let lo = losses[0];
  let hi = lo;
  for (let i = 1; i < n; i++) {
    const v = losses[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // inclusionMask with no options: throws the error naming the first non-finite loss.
  if (!(hi - lo < Infinity)) inclusionMask(losses, {});
  // x_i = delta * (2 l_i - hi - lo) / range = a (l_i - center). Subtracting first keeps the
  // precision when the losses are large next to their range.
  const a = (2 * delta) / Math.max(hi - lo, epsilon);
  const center = (hi + lo) / 2;
  // In exp steps (see expSteps): exp(z) = expSteps(z * STEPS).
  const k = (a / r) * STEPS;
  // Every exponent below is in [-span, span] (x in [-delta, delta], scores within delta or
  // delta^2 of the top): in expSteps' range, the sum is >= exp(-460) = 1e-200 and no term
  // overflows. Past 460 (r < delta / 460 for delta = 1), the general path.
  const span = (strategy === 'dro-kl' ? hi - lo : Math.max(delta, delta * delta)) / r;
  let sum = 0;
  if (span < 460) {
    if (strategy === 'quadratic') {
      // 1 - x^2 <= 1, a bound (the maximum sits at the x nearest 0): exponent -x^2 / r.
      sum = squareExpSum(out, losses, center, -a * k);
    } else if (strategy === 'extremes') {
      // |x| / r, in [0, span]: no offset needed (exp(460) = 1e200 does not overflow).
      sum = expSum(out, losses, center, 0, k);
    } else {
      // min(z, 0) = (z - |z|) / 2, exactly: linupper's s - max s = min(x, 0) (the top loss has
      // x >= 0); linear's (x - x_max) / 2 = a (l - hi) / 2 <= 0; dro-kl's raw l - hi <= 0.
      const h = (strategy === 'linupper' ? k : strategy === 'linear' ? k / 2 : STEPS / r) / 2;
      sum = expSum(out, losses, strategy === 'linupper' ? center : hi, h, -h);
    }
  }
  if (!(sum > 0)) {
    // A NaN loss (the sum is NaN; throw), or a span past 460 (the losses were not touched, so
    // `out` may be the losses): the general path, exact maximum, fastExp with its underflow test.
    inclusionMask(losses, {});
    return generalWeights(out, losses, strategy, r, delta, epsilon);
  }
  return scaleBy(out, 1 / sum);
}

// Two loops, each with the exp inlined (the inlining tree stays small: fusedWeights, a loop, the
// exp), and no branch on the data: a branch that skipped the exp where min(z, 0) = 0 would
// mispredict on every other sample of a real batch (V8 compiles Math.min to a branch too). The
// square has its own loop: 2 operations for its exponent instead of 4 (about 10% faster). The
// minimum and maximum pass stays one sample per iteration: two gained little and cost bytes.

/** out_i = exp(u d_i + v |d_i|) with d_i = l_i - c; returns the sum. */
function expSum(out: Float64Array, l: ArrayLike<number>, c: number, u: number, v: number): number {
  const n = l.length;
  let i = n & 1;
  let s = 0;
  let t = 0;
  if (i) {
    const d = l[0] - c;
    s = out[0] = expSteps(u * d + v * Math.abs(d));
  }
  for (; i < n; i += 2) {
    const d = l[i] - c;
    const e = l[i + 1] - c;
    s += out[i] = expSteps(u * d + v * Math.abs(d));
    t += out[i + 1] = expSteps(u * e + v * Math.abs(e));
  }
  return s + t;
}

/** out_i = exp(w d_i^2) with d_i = l_i - c; returns the sum. */
function squareExpSum(out: Float64Array, l: ArrayLike<number>, c: number, w: number): number {
  const n = l.length;
  let i = n & 1;
  let s = 0;
  let t = 0;
  if (i) {
    const d = l[0] - c;
    s = out[0] = expSteps(w * d * d);
  }
  for (; i < n; i += 2) {
    const d = l[i] - c;
    const e = l[i + 1] - c;
    s += out[i] = expSteps(w * d * d);
    t += out[i + 1] = expSteps(w * e * e);
  }
  return s + t;
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

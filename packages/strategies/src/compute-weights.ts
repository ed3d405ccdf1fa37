import { checkLength, checkNotEmpty, checkTemperature } from './errors.js';
import { expSteps, STEPS } from './fast-exp.js';
import { checkNonFiniteOption, type InclusionOptions, inclusionMask } from './inclusion.js';
import {
  checkNormalizeOptions,
  DEFAULT_DELTA,
  DEFAULT_EPSILON,
  normalizeInto,
} from './normalize.js';
import {
  checkStrategy,
  STRATEGIES,
  type Strategy,
  type StrategyDescriptor,
  scoresInto,
} from './strategies.js';
import { scaleBy, softmaxInto } from './temperature-softmax.js';

export interface WeightOptions<Out extends Weights = Float64Array> extends InclusionOptions {
  /** A strategy name (see `StrategyName`) or a custom score function of x in [-delta, delta]. */
  strategy: Strategy;
  /** Temperature r > 0 (`kl_reg` in trainer.py, tau in the golden file). Infinity: uniform. */
  r: number;
  /** Half-width of the normalization interval [-delta, delta]. Default 1. */
  delta?: number;
  /** Floor of the loss range in the normalization. Default 1e-6. */
  epsilon?: number;
  /**
   * Write the weights into this array (one entry per loss) and return it instead of allocating
   * a new `Float64Array`: no allocation per call. It may be the losses array itself. A
   * `Float32Array` suits tensor libraries that take no float64 (TF.js): the arithmetic stays
   * float64, only the stored weights are rounded.
   */
  out?: Out;
}

/** The arrays computeWeights can write the weights into. */
export type Weights = Float64Array | Float32Array;

/**
 * The per-sample weights of paper Eq. 4, summing to 1 over the (global) batch:
 * normalize the losses to [-delta, delta] (skipped for raw strategies: `dro-kl`), score them with the strategy,
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
export function computeWeights<Out extends Weights = Float64Array>(
  losses: ArrayLike<number>,
  options: WeightOptions<Out>,
): Out {
  const { strategy, r } = options;
  const delta = options.delta ?? DEFAULT_DELTA;
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  const n = checkNotEmpty(losses);
  checkStrategy(strategy);
  checkTemperature(r);
  checkNormalizeOptions(delta, epsilon);
  const out = options.out ?? (new Float64Array(n) as Out);
  checkLength(out, 'out', n, 'losses', 'pass one entry per loss, or omit out.');
  if (
    typeof strategy === 'string' &&
    options.active === undefined &&
    checkNonFiniteOption(options.nonFinite) === 'error' &&
    fusedWeights(out, losses, STRATEGIES[strategy], r, delta, epsilon)
  ) {
    return out;
  }
  const { mask, count } = inclusionMask(losses, options);
  // `uniform` too: its scores are all 0, so the softmax gives exactly 1 / count (0 if none).
  // The normalized losses and the scores go into the output when it holds float64.
  const scratch = out instanceof Float64Array ? out : new Float64Array(n);
  return generalWeights(out, scratch, losses, strategy, r, delta, epsilon, mask, count);
}

/**
 * Every sample included, a strategy with `fast` coefficients: one pass for the minimum and
 * maximum, one for score and exp, one to divide by the sum; returns false (the general path
 * then) when the strategy has none, the exponents could leave expSteps' range, or a loss is not
 * finite (nothing written then, but for NaN). The exponent is u d_i + v |d_i| + w d_i^2 with
 * the descriptor's coefficients (see `StrategyDescriptor`) and d_i = x_i - x_c, equal to
 * (s_i - max s) / r up to an offset (an upper bound of the scores for quadratic, 0 for extremes)
 * that cancels in the ratio.
 *
 * Speed (bench/weights.mjs): the coefficients come scaled to exp steps (`expSteps`), so the exp
 * needs no multiplication by log2(e) and no two-part reduction; the exp loops take two samples
 * per iteration (the scaling four), which halves V8's per-iteration checks and splits the sum's
 * dependency chain. The rounding of the scaled exponent is that of the exponent itself
 * (relative 1e-16), as before the scaling.
 */
function fusedWeights(
  out: Weights,
  losses: ArrayLike<number>,
  strategy: StrategyDescriptor,
  r: number,
  delta: number,
  epsilon: number,
): boolean {
  if (!strategy.fast) return false;
  const [u, v, w, at] = strategy.fast;
  // No per-element finiteness test here (an accumulator would chain every iteration): a NaN
  // first loss or an infinite one makes hi - lo NaN or infinite, and a NaN among finite losses
  // turns the exponential sum below into NaN.
  let lo = losses[0];
  let hi = lo;
  for (let i = 1; i < losses.length; i++) {
    const x = losses[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // An infinite or NaN first loss: the general path names it.
  if (!(hi - lo < Infinity)) return false;
  // x_i = delta * (2 l_i - hi - lo) / range = h d_i with d_i = 2 (l_i - center), computed
  // without rounding the center (see expSum); raw losses: x = l, h = 1/2.
  const h = strategy.raw ? 0.5 : delta / Math.max(hi - lo, epsilon);
  // Every exponent is within max(delta, delta^2) / r of 0 (in x units; the loss range for raw
  // losses), a property of each descriptor (see `StrategyDescriptor.fast`, tested). Below 460,
  // expSteps' range holds it, the sum is >= exp(-460) = 1e-200 and no term overflows. Past it
  // (r < delta / 460 for delta = 1), the general path.
  if (!((strategy.raw ? hi - lo : Math.max(delta, delta * delta)) / r < 460)) return false;
  // In exp steps (see expSteps): exp(z) = expSteps(z * STEPS).
  const k = (h / r) * STEPS;
  const sum = expSum(out, losses, at ? hi : lo, hi, u * k, v * k, w * h * k);
  // A NaN loss (the sum is NaN): the general path names it.
  if (!(sum > 0)) return false;
  scaleBy(out, 1 / sum);
  return true;
}

// One loop with the exp inlined (the inlining tree stays small: fusedWeights, the loop, the
// exp), and no branch on the data: a branch that skipped the exp where min(z, 0) = 0 would
// mispredict on every other sample of a real batch (V8 compiles Math.min to a branch too). The
// exponent d (u + w d) + v |d| costs quadratic 2-5% over a loop of its own (w d^2) and the others
// 1-3% over u d + v |d| (measured alternating with the two-loop version in one process), for
// one loop instead of two and fewer bytes; with the unused terms 0 its value is bit for bit that
// of the shorter forms. The minimum and maximum pass stays one sample per iteration: two gained
// little and cost bytes.

/**
 * out_i = exp(d_i (u + w d_i) + v |d_i|) in exp steps, with d_i = (l_i - q) - (p - l_i); returns
 * the sum. d is 2 (l_i - c) for c = (p + q) / 2, without rounding c: d = -(p - q) and p - q
 * exactly at l_i = q and p, so the batch keeps its symmetry however narrow the loss range.
 */
function expSum(
  out: Weights,
  l: ArrayLike<number>,
  q: number,
  p: number,
  u: number,
  v: number,
  w: number,
): number {
  const n = l.length;
  let i = n & 1;
  let s = 0;
  let t = 0;
  if (i) {
    const x = l[0];
    const d = x - q - (p - x);
    s = out[0] = expSteps(d * (u + w * d) + v * Math.abs(d));
  }
  for (; i < n; i += 2) {
    const x = l[i];
    const y = l[i + 1];
    const d = x - q - (p - x);
    const e = y - q - (p - y);
    s += out[i] = expSteps(d * (u + w * d) + v * Math.abs(d));
    t += out[i + 1] = expSteps(e * (u + w * e) + v * Math.abs(e));
  }
  return s + t;
}

/**
 * Normalize (unless the strategy scores raw losses), score, softmax: three kernels, any
 * strategy; included losses finite, excluded ones (mask 0) get weight 0. The first two write
 * into `scratch` (float64; it may be `out`), the softmax into `out`.
 */
function generalWeights<Out extends Weights>(
  out: Out,
  scratch: Float64Array,
  losses: ArrayLike<number>,
  strategy: Strategy,
  r: number,
  delta: number,
  epsilon: number,
  mask: Uint8Array | null = null,
  count = losses.length,
): Out {
  const x =
    typeof strategy === 'string' && STRATEGIES[strategy].raw
      ? losses
      : normalizeInto(scratch, losses, mask, delta, epsilon);
  const scores = scoresInto(scratch, x, strategy, mask);
  return softmaxInto(out, scores, r, mask, count);
}

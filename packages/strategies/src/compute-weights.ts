import { checkNotEmpty, checkTemperature, nonFiniteLossError } from './errors.js';
import { fastExp } from './fast-exp.js';
import { checkNonFiniteOption, type InclusionOptions, inclusionMask } from './inclusion.js';
import {
  checkNormalizeOptions,
  DEFAULT_DELTA,
  DEFAULT_EPSILON,
  normalizeInto,
} from './normalize.js';
import { checkStrategy, type Strategy, scoresInto } from './strategies.js';
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
  checkStrategy(strategy);
  checkTemperature(r);
  checkNormalizeOptions(delta, epsilon);
  checkNotEmpty(losses.length);
  const n = losses.length;
  const out = new Float64Array(n);
  if (options.active === undefined && checkNonFiniteOption(options.nonFinite) === 'error') {
    return fusedWeights(out, losses, strategy, r, delta, epsilon);
  }
  const { mask, count } = inclusionMask(losses, options);
  if (count === 0) return out;
  // `uniform` too: its scores are all 0, so the softmax gives exactly 1 / count.
  return generalWeights(out, losses, strategy, r, delta, epsilon, mask, count);
}

/**
 * Every sample included: one pass for min, max and finiteness, one for score and exp, one to
 * divide by the sum. The exponent offset is the maximum score where it follows from the
 * extreme losses (monotone or |x| scores), else an upper bound of the scores; the offset
 * cancels in the ratio, and the rare case where a loose bound would underflow every exponent
 * falls back to the exact maximum.
 */
function fusedWeights(
  out: Float64Array,
  losses: ArrayLike<number>,
  strategy: Strategy,
  r: number,
  delta: number,
  epsilon: number,
): Float64Array {
  const n = losses.length;
  let lo = Infinity;
  let hi = -Infinity;
  // No per-element finiteness test here (an accumulator would chain every iteration): an
  // infinite loss shows in lo or hi, and a NaN, which no comparison lets through, turns the
  // exponential sum below into NaN (for `uniform` and r = Infinity, checked up front).
  for (let i = 0; i < n; i++) {
    const v = losses[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi - lo >= 0) || hi === Infinity || lo === -Infinity) checkFinite(losses);
  if (strategy === 'uniform' || r === Infinity || typeof strategy === 'function') {
    checkFinite(losses);
    if (typeof strategy === 'function')
      return generalWeights(out, losses, strategy, r, delta, epsilon);
    return out.fill(1 / n);
  }
  const inv = 1 / r;
  let sum = 0;
  if (strategy === 'dro-kl') {
    for (let i = 0; i < n; i++) sum += out[i] = fastExp((losses[i] - hi) * inv);
    if (Number.isNaN(sum)) checkFinite(losses);
  } else {
    const range = Math.max(hi - lo, epsilon);
    const mid = hi + lo;
    const scale = delta / range;
    // x_i = delta * (2 l_i - mid) / range = a (l_i - center). Subtracting first keeps the
    // precision when the losses are large next to their range (no cancellation of a l - a c).
    const a = 2 * scale;
    const center = mid / 2;
    switch (strategy) {
      case 'linupper': {
        // x of the maximum loss is >= 0, so max s = 1 and s_i - max s = min(x_i, 0): every sample at or above the
        // mid-range loss has exponent 0 (weight factor exactly 1, no exp needed).
        const ai = a * inv;
        for (let i = 0; i < n; i++) {
          const z = (losses[i] - center) * ai;
          sum += out[i] = z >= 0 ? 1 : fastExp(z);
        }
        break;
      }
      case 'linear': {
        // s_i - max s = (x_i - x_max) / 2 = a (l_i - l_max) / 2 <= 0.
        const ai = (a * inv) / 2;
        for (let i = 0; i < n; i++) sum += out[i] = fastExp((losses[i] - hi) * ai);
        break;
      }
      case 'extremes': {
        // max |x| is at an extreme loss.
        const top = Math.max(Math.abs(a * (lo - center)), Math.abs(a * (hi - center)));
        for (let i = 0; i < n; i++) {
          sum += out[i] = fastExp((Math.abs((losses[i] - center) * a) - top) * inv);
        }
        break;
      }
      case 'quadratic': {
        // 1 - x^2 <= 1: a bound, not the maximum (that sits at the x nearest 0).
        for (let i = 0; i < n; i++) {
          const x = (losses[i] - center) * a;
          sum += out[i] = fastExp(-x * x * inv);
        }
        break;
      }
      default:
        return generalWeights(out, losses, strategy, r, delta, epsilon);
    }
    if (!(sum > 1e-200)) {
      // A NaN loss (the sum is NaN), or every exponent far below 0 (quadratic with r < ~1e-3):
      // throw for the NaN, else redo with the exact maximum.
      checkFinite(losses);
      return generalWeights(out, losses, strategy, r, delta, epsilon);
    }
  }
  const norm = 1 / sum;
  for (let i = 0; i < n; i++) out[i] *= norm;
  return out;
}

/** Throws the error for the first loss that is NaN or infinite, if any. */
function checkFinite(losses: ArrayLike<number>): void {
  for (let i = 0; i < losses.length; i++) {
    if (!(losses[i] - losses[i] === 0)) throw nonFiniteLossError('losses', i, losses[i]);
  }
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

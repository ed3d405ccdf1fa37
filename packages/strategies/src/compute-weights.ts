import { checkNotEmpty, checkTemperature } from './errors.js';
import { type InclusionOptions, inclusionMask } from './inclusion.js';
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
 * then take softmax(scores / r). Equivalent to
 * `temperatureSoftmax(strategyScores(normalizeLosses(l), strategy), r)`, in three passes over
 * one output buffer.
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
  const { mask, count } = inclusionMask(losses, options);
  const out = new Float64Array(losses.length);
  if (count === 0) return out;
  if (strategy === 'uniform') {
    const w = 1 / count;
    for (let i = 0; i < out.length; i++) out[i] = mask === null || mask[i] === 1 ? w : 0;
    return out;
  }
  if (strategy === 'dro-kl') return softmaxInto(out, losses, r, mask, count);
  normalizeInto(out, losses, mask, delta, epsilon);
  scoresInto(out, out, strategy, mask);
  return softmaxInto(out, out, r, mask, count);
}

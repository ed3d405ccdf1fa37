import { ReweightError } from './errors.js';
import { type InclusionOptions, inclusionMask } from './inclusion.js';

/**
 * The named strategies of spec section 3. A strategy is a score function f(x) on normalized
 * losses x in [-delta, delta]; the weights are softmax(f(x) / r) (paper Eq. 4).
 *
 * | name        | f(x)            | reference                                            |
 * |-------------|-----------------|------------------------------------------------------|
 * | `uniform`   | weights 1/n     | trainer.py baseline                                  |
 * | `linupper`  | min(x + 1, 1)   | paper LinUpper; `upper` in fms-fsdp                  |
 * | `quadratic` | 1 - x^2         | paper Quadratic; `mid` in trainer.py and fms-fsdp    |
 * | `extremes`  | abs(x)          | paper Extremes                                       |
 * | `linear`    | (x + 1) / 2     | `upper` in trainer.py only                           |
 * | `dro-kl`    | raw loss l      | KL-DRO baseline (IR-DRO code): no normalization      |
 */
export type StrategyName = 'uniform' | 'linupper' | 'quadratic' | 'extremes' | 'linear' | 'dro-kl';

/** A custom score function on normalized losses x in [-delta, delta]. */
export type ScoreFunction = (x: number) => number;

export type Strategy = StrategyName | ScoreFunction;

/** The score function of each named strategy (`uniform`: all 0, so any r gives 1/n). */
const SCORES: Record<StrategyName, ScoreFunction> = {
  uniform: () => 0,
  linupper: (x) => Math.min(x + 1, 1),
  quadratic: (x) => 1 - x * x,
  extremes: Math.abs,
  linear: (x) => (x + 1) / 2,
  'dro-kl': (x) => x,
};

export const STRATEGY_NAMES = Object.keys(SCORES) as readonly StrategyName[];

/** Names of the reference code that we refuse, with what to use instead (spec section 3). */
const ALIASES: Record<string, string> = {
  upper: "ambiguous: 'linupper' in fms-fsdp, 'linear' in trainer.py",
  mid: "use 'quadratic'",
};

/** Throws a `ReweightError` unless `strategy` is a known name or a function. */
export function checkStrategy(strategy: unknown): asserts strategy is Strategy {
  if (typeof strategy === 'function' || STRATEGY_NAMES.includes(strategy as StrategyName)) return;
  // Other spellings of our names ('LinUpper', 'DRO_KL') are pointed to the right one.
  const name = String(strategy).toLowerCase().replace('_', '-');
  const alias =
    ALIASES[name] ?? (STRATEGY_NAMES.includes(name as StrategyName) ? `use '${name}'` : '');
  throw new ReweightError(
    'unknown-strategy',
    `strategy = ${JSON.stringify(strategy) ?? String(strategy)} is unknown` +
      (alias ? ` (${alias})` : '') +
      `: use one of ${STRATEGY_NAMES.join(', ')} or a score function.`,
  );
}

/**
 * Scores s_i = f(x_i) of the normalized losses (spec section 3). For `dro-kl` pass the raw
 * losses (it does not normalize) and the scores are the losses themselves; for `uniform` the
 * scores are all 0, so any temperature gives 1/n. Excluded samples (see `InclusionOptions`)
 * get score 0 and must not be weighted.
 */
export function strategyScores(
  normalized: ArrayLike<number>,
  strategy: Strategy,
  options: InclusionOptions = {},
): Float64Array {
  checkStrategy(strategy);
  const { mask } = inclusionMask(normalized, options, 'normalized');
  return scoresInto(new Float64Array(normalized.length), normalized, strategy, mask);
}

/**
 * The kernel behind `strategyScores` (and `computeWeights` with masks or a custom function;
 * its common calls take fused loops instead); inputs already validated. `out` may alias `x`.
 */
export function scoresInto(
  out: Float64Array,
  x: ArrayLike<number>,
  strategy: Strategy,
  mask: Uint8Array | null,
): Float64Array {
  const f = typeof strategy === 'function' ? strategy : SCORES[strategy];
  for (let i = 0; i < x.length; i++) {
    if (mask?.[i] === 0) {
      out[i] = 0;
      continue;
    }
    const s = f(x[i]);
    if (!(s - s === 0)) {
      throw new ReweightError(
        'non-finite-loss',
        `custom score function returned ${s} for x = ${x[i]}: return finite numbers.`,
      );
    }
    out[i] = s;
  }
  return out;
}

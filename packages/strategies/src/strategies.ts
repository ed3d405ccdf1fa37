import { ReweightError, show } from './errors.js';
import { type InclusionOptions, inclusionMask } from './inclusion.js';

/**
 * The named strategies of spec section 3. A strategy is a score function f(x) on normalized
 * losses x in [-delta, delta]; the weights are softmax(f(x) / r) (paper Eq. 4). Each one is
 * described once, in `STRATEGIES`: computeWeights, the trainer, the theory checks and the CLI
 * all read that table, so a new strategy is one entry there (see CONTRIBUTING.md).
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

/**
 * Everything the packages need to know about one named strategy.
 *
 * `fast` lets computeWeights skip the scores. With d = x - x_c, where x_c is the middle of the
 * normalized range (x = 0), or the top loss's x when `fast[3]` is 'max', the strategy's
 * s - max s equals `u d + v |d| + w d^2` for `fast = [u, v, w]`, up to a constant that cancels
 * in the softmax. That exponent must stay within max(delta, delta^2) of 0 for x in
 * [-delta, delta] (for `raw` strategies, where x is the loss itself, within the loss range), so
 * that no exp overflows or underflows (strategies.test.ts checks both properties). Without
 * `fast`, computeWeights takes the general path (normalize, score, softmax).
 */
export interface StrategyDescriptor {
  /** f of the normalized loss x (of the raw loss when `raw`). */
  readonly score: ScoreFunction;
  /**
   * The temperature a trainer uses when none is given: the paper's (spec section 7: 0.4 for
   * LinUpper and Extremes, 1 for Quadratic), 1 where none is published, Infinity where the
   * weights do not depend on r (uniform).
   */
  readonly defaultR: number;
  /** True: the scores are of the raw losses (KL-DRO), with no min-max normalization. */
  readonly raw?: boolean;
  /** Coefficients of the exponent for computeWeights' fused loops. */
  readonly fast?: readonly [u: number, v: number, w: number, at?: 'max'];
}

/** One descriptor per named strategy, in the order of `STRATEGY_NAMES`. */
export const STRATEGIES: Readonly<Record<StrategyName, StrategyDescriptor>> = {
  // s = 0 for every sample: any r gives exactly 1/n.
  uniform: { score: () => 0, defaultR: Infinity, fast: [0, 0, 0] },
  // min(x + 1, 1) - 1 = min(x, 0) = (x - |x|) / 2, exactly; the top loss has x = delta >= 0.
  linupper: { score: (x) => Math.min(x + 1, 1), defaultR: 0.4, fast: [0.5, -0.5, 0] },
  // 1 - x^2 <= 1, a bound (the maximum sits at the x nearest 0): -x^2.
  quadratic: { score: (x) => 1 - x * x, defaultR: 1, fast: [0, 0, -1] },
  // |x| in [0, delta]: no offset needed.
  extremes: { score: Math.abs, defaultR: 0.4, fast: [0, 1, 0] },
  // (x - x_max) / 2 <= 0.
  linear: { score: (x) => (x + 1) / 2, defaultR: 1, fast: [0.5, 0, 0, 'max'] },
  // the raw l - l_max <= 0.
  'dro-kl': { score: (l) => l, defaultR: 1, raw: true, fast: [1, 0, 0, 'max'] },
};

export const STRATEGY_NAMES = Object.keys(STRATEGIES) as readonly StrategyName[];

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
    `strategy = ${show(strategy)} is unknown` +
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
  const f = typeof strategy === 'function' ? strategy : STRATEGIES[strategy].score;
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

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

export const STRATEGY_NAMES: readonly StrategyName[] = [
  'uniform',
  'linupper',
  'quadratic',
  'extremes',
  'linear',
  'dro-kl',
];

/** Names of the reference code that we refuse, with what to use instead (spec section 3). */
const ALIASES: Record<string, string> = {
  upper: "ambiguous: 'linupper' in fms-fsdp, 'linear' in trainer.py",
  mid: "use 'quadratic'",
  readme_uniform: 'the score function (x) => x',
};

/** Throws a `ReweightError` unless `strategy` is a known name or a function. */
export function checkStrategy(strategy: unknown): asserts strategy is Strategy {
  if (typeof strategy === 'function') return;
  if (typeof strategy === 'string' && (STRATEGY_NAMES as readonly string[]).includes(strategy)) {
    return;
  }
  const name = typeof strategy === 'string' ? strategy.toLowerCase() : '';
  const alias = ALIASES[name] ?? (name.replace('_', '-') === 'dro-kl' ? "use 'dro-kl'" : '');
  throw new ReweightError(
    'unknown-strategy',
    `strategy = ${JSON.stringify(strategy) ?? String(strategy)} is unknown` +
      (alias ? ` (${alias})` : '') +
      `: use one of ${STRATEGY_NAMES.join(', ')} or a function (x: number) => number.`,
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

/** The kernel behind `strategyScores`; inputs already validated. `out` may alias `x`. */
export function scoresInto(
  out: Float64Array,
  x: ArrayLike<number>,
  strategy: Strategy,
  mask: Uint8Array | null,
): Float64Array {
  const n = x.length;
  // One loop per strategy keeps each loop monomorphic (see bench/weights.mjs).
  switch (strategy) {
    case 'uniform':
      out.fill(0);
      break;
    case 'linupper':
      for (let i = 0; i < n; i++) {
        const v = x[i] + 1;
        out[i] = Math.min(v, 1);
      }
      break;
    case 'quadratic':
      for (let i = 0; i < n; i++) out[i] = 1 - x[i] * x[i];
      break;
    case 'extremes':
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      break;
    case 'linear':
      for (let i = 0; i < n; i++) out[i] = (x[i] + 1) / 2;
      break;
    case 'dro-kl':
      for (let i = 0; i < n; i++) out[i] = x[i];
      break;
    default:
      for (let i = 0; i < n; i++) {
        if (mask !== null && mask[i] === 0) continue;
        const s = strategy(x[i]);
        if (!(s - s === 0)) {
          throw new ReweightError(
            'non-finite-loss',
            `the custom score function returned ${String(s)} for x[${i}] = ${x[i]}: a score ` +
              'function must return a finite number for every x in [-delta, delta].',
          );
        }
        out[i] = s;
      }
  }
  if (mask !== null) for (let i = 0; i < n; i++) if (mask[i] === 0) out[i] = 0;
  return out;
}

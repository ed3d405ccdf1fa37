import { checkLength, nonFiniteLossError, ReweightError, show } from './errors.js';

/**
 * Which samples take part in the weighting.
 *
 * - `active`: per sample, `false` / `0` means "no active targets" (spec section 1): the sample is
 *   left out of the min-max normalization and gets weight exactly 0. A count of active targets
 *   per sample can be passed as is (0 excludes, any positive count includes).
 * - `nonFinite`: `'error'` (default) throws on a NaN or infinite loss of an included sample;
 *   `'zero'` treats it like an inactive sample (weight 0). `weightStats` reports the count.
 */
export interface InclusionOptions {
  active?: ArrayLike<number | boolean>;
  nonFinite?: 'error' | 'zero';
}

/** Validates the `nonFinite` option and returns it with its default. */
export function checkNonFiniteOption(value: unknown): 'error' | 'zero' {
  if (value === 'zero') return value;
  if (value === undefined || value === 'error') return 'error';
  throw new ReweightError(
    'invalid-option',
    `nonFinite = ${show(value)} must be 'error' (default) or 'zero'.`,
  );
}

/**
 * Returns null when every sample is included (the fast path), otherwise a 0/1 mask.
 * `count` is the number of included samples.
 */
export function inclusionMask(
  losses: ArrayLike<number>,
  options: InclusionOptions,
  where = 'losses',
): { mask: Uint8Array | null; count: number } {
  const n = losses.length;
  const { active } = options;
  const nonFinite = checkNonFiniteOption(options.nonFinite);
  if (active) {
    checkLength(active, 'active', n, where, 'pass one flag per sample.');
  }
  let mask: Uint8Array | null = null;
  let count = n;
  for (let i = 0; i < n; i++) {
    const a = !active || Boolean(active[i]);
    const v = losses[i];
    // v - v is 0 for finite numbers and NaN for NaN and +-Infinity.
    const finite = v - v === 0;
    if (a && !finite && nonFinite === 'error') throw nonFiniteLossError(where, i, v);
    if (!a || !finite) {
      if (mask === null) mask = new Uint8Array(n).fill(1);
      mask[i] = 0;
      count--;
    }
  }
  return { mask, count };
}

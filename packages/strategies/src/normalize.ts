import { checkNotEmpty, checkPositive } from './errors.js';
import { type InclusionOptions, inclusionMask } from './inclusion.js';

/** Defaults of spec section 2 (the reference code's values). */
export const DEFAULT_DELTA = 1;
export const DEFAULT_EPSILON = 1e-6;

export interface NormalizeOptions extends InclusionOptions {
  /** Half-width of the target interval [-delta, delta]. Default 1. */
  delta?: number;
  /** Floor of the loss range, so all-equal losses give x = 0 instead of 0/0. Default 1e-6. */
  epsilon?: number;
}

export function checkNormalizeOptions(delta: number, epsilon: number): void {
  checkPositive(delta, 'delta', DEFAULT_DELTA);
  checkPositive(epsilon, 'epsilon', DEFAULT_EPSILON);
}

/**
 * Min-max normalization of the losses onto [-delta, delta] (spec section 2):
 *
 *   range = max(l_max - l_min, epsilon),  x_i = delta * (2 l_i - l_max - l_min) / range
 *
 * computed left to right as written and clamped to [-delta, delta]: the top loss gets exactly
 * delta, and rounding never puts an x outside the interval (a score such as sqrt(1 - x^2)
 * would fail there).
 *
 * Minimum and maximum are taken over the included samples only; excluded samples (see
 * `InclusionOptions`) get x = 0 and must not be weighted. All-equal losses give x = 0 exactly.
 */
export function normalizeLosses(
  losses: ArrayLike<number>,
  options: NormalizeOptions = {},
): Float64Array {
  const delta = options.delta ?? DEFAULT_DELTA;
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  checkNormalizeOptions(delta, epsilon);
  checkNotEmpty(losses);
  const { mask } = inclusionMask(losses, options);
  return normalizeInto(new Float64Array(losses.length), losses, mask, delta, epsilon);
}

/** The kernel behind `normalizeLosses`; inputs already validated. */
export function normalizeInto(
  out: Float64Array,
  losses: ArrayLike<number>,
  mask: Uint8Array | null,
  delta: number,
  epsilon: number,
): Float64Array {
  // Minimum and maximum of the included losses (finite: checked before).
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < losses.length; i++) {
    const v = losses[i];
    if (mask?.[i] === 0) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = Math.max(hi - lo, epsilon);
  for (let i = 0; i < losses.length; i++) {
    const x = (delta * (2 * losses[i] - hi - lo)) / range;
    out[i] = mask?.[i] === 0 ? 0 : Math.min(Math.max(x, -delta), delta);
  }
  return out;
}

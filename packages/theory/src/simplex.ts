import { fmt } from './bound-result.js';
import { TheoryInputError } from './errors.js';

/** Tolerance on sum(w) = 1 and on the cap for float64 weights (e.g. float64 softmaxes). */
export const SIMPLEX_TOLERANCE = 1e-9;

/**
 * Throws a TheoryInputError unless `weights` lie on the simplex: every w_i >= 0 and
 * |sum_i w_i - 1| <= tolerance. The message names the field, the sum (or the negative entry)
 * and the fix. `where` prefixes the message, e.g. 'step 3: '.
 */
export function requireSimplex(
  field: string,
  weights: ArrayLike<number>,
  tolerance = SIMPLEX_TOLERANCE,
): void {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (w < 0) {
      throw new TheoryInputError(
        `${field}[${i}]`,
        `is ${fmt(w)} < 0, but weights must lie on the simplex (w_i >= 0, sum 1); weights from a softmax are never negative`,
      );
    }
    sum += w;
  }
  if (!(Math.abs(sum - 1) <= tolerance)) {
    throw new TheoryInputError(
      field,
      `sum to ${sum}, not 1 (within ${tolerance}): weights must lie on the simplex; divide them by their sum (${sum})`,
    );
  }
}

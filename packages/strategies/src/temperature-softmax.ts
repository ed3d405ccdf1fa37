import { checkNotEmpty, checkTemperature } from './errors.js';
import { fastExp } from './fast-exp.js';
import { type InclusionOptions, inclusionMask } from './inclusion.js';

/**
 * Paper Eq. 4: w_i = exp((s_i - max_j s_j) / r) / sum_k exp((s_k - max_j s_j) / r).
 *
 * The weights sum to 1 (not n). Subtracting the maximum score keeps every exponent <= 0, so no
 * overflow for any r > 0. r = Infinity gives exactly 1/n. These weights maximise
 * sum_i w_i s_i - r KL(w || uniform) over the whole simplex; the paper's Proposition 1 also keeps
 * the cap w_i <= 2/n, and Eq. 4 is its optimum whenever no weight exceeds 2/n (the capped optimum
 * is `optimalKlWeights` in @lrw/theory). Excluded samples (see `InclusionOptions`) get weight 0
 * and do not count in n.
 */
export function temperatureSoftmax(
  scores: ArrayLike<number>,
  r: number,
  options: InclusionOptions = {},
): Float64Array {
  checkTemperature(r);
  checkNotEmpty(scores, 'scores');
  const { mask, count } = inclusionMask(scores, options, 'scores');
  return softmaxInto(new Float64Array(scores.length), scores, r, mask, count);
}

/** The kernel behind `temperatureSoftmax`; inputs already validated. `out` may alias `scores`. */
export function softmaxInto<Out extends Float64Array | Float32Array>(
  out: Out,
  scores: ArrayLike<number>,
  r: number,
  mask: Uint8Array | null,
  count: number,
): Out {
  const n = scores.length;
  if (count === 0) return out.fill(0) as Out;
  let top = -Infinity;
  for (let i = 0; i < n; i++) {
    if (mask?.[i] === 0) continue;
    if (scores[i] > top) top = scores[i];
  }
  const inv = 1 / r;
  let sum = 0;
  // One loop for both cases (the mask test is predictable): computeWeights' common call does
  // not come here (see fusedWeights), so this path is kept small rather than specialised.
  for (let i = 0; i < n; i++) {
    sum += out[i] = mask?.[i] === 0 ? 0 : fastExp((scores[i] - top) * inv);
  }
  return scaleBy(out, 1 / sum);
}

/** out_i *= factor, four samples per iteration (a quarter of V8's loop checks); returns out. */
export function scaleBy<W extends Float64Array | Float32Array>(out: W, factor: number): W {
  const n = out.length;
  let i = n & 3;
  for (let j = 0; j < i; j++) out[j] *= factor;
  for (; i < n; i += 4) {
    out[i] *= factor;
    out[i + 1] *= factor;
    out[i + 2] *= factor;
    out[i + 3] *= factor;
  }
  return out;
}

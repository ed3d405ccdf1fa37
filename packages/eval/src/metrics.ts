/** Aggregations of lm-eval (lm_eval/api/metrics.py): mean and its standard error. */

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n - 1 in the denominator) over sqrt(n): lm-eval's `mean_stderr`. */
export function meanStderr(xs: readonly number[]): number {
  const n = xs.length;
  const mu = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - mu) * (x - mu);
  return Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
}

/** Index of the first maximum (numpy.argmax: ties go to the first). */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Python `len()` of a string: Unicode code points, not UTF-16 units. */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

import { TrainerError } from './trainer-error.js';

/**
 * Student's t distribution with an integer number of degrees of freedom, exactly (no table, no
 * approximation): the probability that |T| < t is Abramowitz & Stegun 26.7.3 / 26.7.4, a finite
 * sum in theta = atan(t / sqrt(df)):
 *   df odd:  (2/pi) (theta + sin(theta) cos(theta) (1 + 2/3 c^2 + (2*4)/(3*5) c^4 + ...))
 *            with df = 1 giving (2/pi) theta, the sum running to the c^(df-3) term
 *   df even: sin(theta) (1 + 1/2 c^2 + (1*3)/(2*4) c^4 + ...), to the c^(df-2) term
 * where c = cos(theta). Comparisons over seeds have df = seeds - 1, a small integer.
 */
function checkDf(df: number): void {
  if (!Number.isInteger(df) || df < 1) {
    throw new TrainerError(
      'invalid-argument',
      `Student t: degrees of freedom must be a whole number >= 1, got ${df}.`,
      'pass the number of paired values minus one (an interval needs at least 2 values).',
    );
  }
}

/** P(|T| < t) for T ~ Student t with `df` degrees of freedom (t >= 0). */
function centralProbability(t: number, df: number): number {
  if (t === Number.POSITIVE_INFINITY) return 1;
  const theta = Math.atan(t / Math.sqrt(df));
  const s = Math.sin(theta);
  const c2 = Math.cos(theta) ** 2;
  if (df % 2 === 1) {
    if (df === 1) return (2 / Math.PI) * theta;
    // 1 + (2/3) c^2 + (2*4)/(3*5) c^4 + ... up to c^(df-3)
    let term = 1;
    let sum = 1;
    for (let k = 2; k <= df - 3; k += 2) {
      term *= (k / (k + 1)) * c2;
      sum += term;
    }
    return (2 / Math.PI) * (theta + s * Math.cos(theta) * sum);
  }
  // 1 + (1/2) c^2 + (1*3)/(2*4) c^4 + ... up to c^(df-2)
  let term = 1;
  let sum = 1;
  for (let k = 2; k <= df - 2; k += 2) {
    term *= ((k - 1) / k) * c2;
    sum += term;
  }
  return s * sum;
}

/** The cumulative distribution function P(T <= t). */
export function studentTCdf(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) return Number.NaN;
  const a = centralProbability(Math.abs(t), df);
  return t >= 0 ? 0.5 + a / 2 : 0.5 - a / 2;
}

/**
 * The quantile t_{p, df}: the t with P(T <= t) = p, e.g. studentTQuantile(0.975, 2) = 4.3027
 * (the half-width factor of a 95% interval over 3 values). Bisection on the exact CDF to the
 * last bits of a double.
 */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p > 0 && p < 1)) {
    throw new TrainerError(
      'invalid-argument',
      `Student t quantile: probability must be in (0, 1), got ${p}.`,
      'for a two-sided interval of confidence c pass (1 + c) / 2, e.g. 0.975 for 95%.',
    );
  }
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const target = 2 * p - 1; // P(|T| < t)
  let lo = 0;
  let hi = 1;
  while (centralProbability(hi, df) < target) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (centralProbability(mid, df) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

import { studentTQuantile } from './student-t.js';
import { TrainerError } from './trainer-error.js';

/** A two-sided Student-t confidence interval of a mean. */
export interface MeanInterval {
  low: number;
  high: number;
  /** e.g. 0.95 */
  confidence: number;
  /** Degrees of freedom (pairs - 1) and the t quantile used: half-width = t * std / sqrt(n). */
  df: number;
  t: number;
}

/**
 * A method's paired difference from the baseline: for each seed both ran, (method - baseline)
 * with the same seed, hence the same initialisation and data order. Pairing removes the
 * seed-to-seed variation both runs share, so the interval is about the method, not the seed.
 */
export interface PairedDifference {
  /** The seeds both ran, ascending, and the difference at each. */
  seeds: number[];
  differences: number[];
  n: number;
  /** Mean of the differences. */
  mean: number;
  /** Sample standard deviation of the differences (n - 1 denominator); 0 with one pair. */
  std: number;
  /** The Student-t interval of the mean difference; absent with one pair (no interval exists). */
  interval?: MeanInterval;
  /** Whether the interval excludes 0 (absent without an interval). */
  excludesZero?: boolean;
}

/**
 * Mean, standard deviation and the `confidence` Student-t interval of `differences` (one per
 * seed). With one difference there is no interval: the result says so by leaving it out.
 */
export function pairedDifference(
  seeds: readonly number[],
  differences: readonly number[],
  confidence = 0.95,
): PairedDifference {
  const n = differences.length;
  if (n === 0 || seeds.length !== n) {
    throw new TrainerError(
      'invalid-argument',
      `pairedDifference: needs one difference per seed, got ${n} differences for ${seeds.length} seeds.`,
      'pass at least one (seed, difference) pair.',
    );
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new TrainerError(
      'invalid-argument',
      `pairedDifference: confidence must be in (0, 1), got ${confidence}.`,
      'use e.g. 0.95 for a 95% interval.',
    );
  }
  const mean = differences.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(differences.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1)) : 0;
  const out: PairedDifference = { seeds: [...seeds], differences: [...differences], n, mean, std };
  if (n > 1) {
    const t = studentTQuantile((1 + confidence) / 2, n - 1);
    const half = (t * std) / Math.sqrt(n);
    out.interval = { low: mean - half, high: mean + half, confidence, df: n - 1, t };
    out.excludesZero = out.interval.low > 0 || out.interval.high < 0;
  }
  return out;
}

/**
 * Pairs per-seed values of a method with the baseline's: the seeds present in both (ascending)
 * and, at each, method - baseline. Undefined when no seed is shared.
 */
export function pairBySeed(
  method: ReadonlyMap<number, number>,
  baseline: ReadonlyMap<number, number>,
  confidence = 0.95,
): PairedDifference | undefined {
  const seeds = [...method.keys()].filter((s) => baseline.has(s)).sort((a, b) => a - b);
  if (seeds.length === 0) return undefined;
  return pairedDifference(
    seeds,
    seeds.map((s) => method.get(s)! - baseline.get(s)!),
    confidence,
  );
}

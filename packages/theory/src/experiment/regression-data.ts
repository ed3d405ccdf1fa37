import { SeededRandom } from '../random.js';

/**
 * Linear regression with outliers (spec theory.md, "Experiments"; the paper's Appendix B
 * setup is not available, so these numbers are ours and fixed before any run):
 * clean points x ~ N(0, I_d), y = <theta*, x> + noise (std `noise`), theta* ~ N(0, I_d / d);
 * outliers with large-variance inputs x ~ N(0, outlierScale^2 I_d) and random targets
 * y ~ N(0, outlierTargetStd^2), unrelated to theta*; a clean test set drawn like the clean points.
 */
export interface RegressionDataOptions {
  readonly dim: number;
  readonly cleanPoints: number;
  /** Fraction of the TRAINING set that is outliers, in [0, 1). */
  readonly outlierFraction: number;
  readonly testPoints: number;
  readonly noise: number;
  readonly outlierScale: number;
  readonly outlierTargetStd: number;
}

export const DEFAULT_DATA: RegressionDataOptions = {
  dim: 20,
  cleanPoints: 1000,
  outlierFraction: 0.1,
  testPoints: 1000,
  noise: 0.1,
  outlierScale: 3,
  outlierTargetStd: 3,
};

export interface RegressionData {
  readonly dim: number;
  /** Training inputs (n, d) row-major, clean points first, then outliers. */
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly isOutlier: Uint8Array;
  readonly testX: Float64Array;
  readonly testY: Float64Array;
  readonly theta: Float64Array;
}

export function makeRegressionData(seed: number, options: RegressionDataOptions): RegressionData {
  const rng = new SeededRandom(seed);
  const { dim: d, cleanPoints } = options;
  const outliers = Math.round(
    (options.outlierFraction * cleanPoints) / (1 - options.outlierFraction),
  );
  const n = cleanPoints + outliers;
  const theta = Float64Array.from({ length: d }, () => rng.normal() / Math.sqrt(d));
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  const isOutlier = new Uint8Array(n);
  const clean = (xs: Float64Array, ys: Float64Array, i: number) => {
    let dot = 0;
    for (let k = 0; k < d; k++) {
      const v = rng.normal();
      xs[i * d + k] = v;
      dot += v * theta[k];
    }
    ys[i] = dot + options.noise * rng.normal();
  };
  for (let i = 0; i < cleanPoints; i++) clean(x, y, i);
  for (let i = cleanPoints; i < n; i++) {
    isOutlier[i] = 1;
    for (let k = 0; k < d; k++) x[i * d + k] = options.outlierScale * rng.normal();
    y[i] = options.outlierTargetStd * rng.normal();
  }
  const testX = new Float64Array(options.testPoints * d);
  const testY = new Float64Array(options.testPoints);
  for (let i = 0; i < options.testPoints; i++) clean(testX, testY, i);
  return { dim: d, x, y, isOutlier, testX, testY, theta };
}

/** Test mean squared error (1/n) sum (<x_i, w> - y_i)^2. */
export function testMse(data: RegressionData, w: Float64Array): number {
  const d = data.dim;
  const n = data.testY.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let r = -data.testY[i];
    for (let k = 0; k < d; k++) r += data.testX[i * d + k] * w[k];
    s += r * r;
  }
  return s / n;
}

/**
 * Largest eigenvalue of the training Hessian (1/n) X^T X of the mean squared loss / 2,
 * by power iteration (deterministic start).
 */
export function largestCurvature(data: RegressionData, iterations = 300): number {
  const d = data.dim;
  const n = data.y.length;
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < iterations; it++) {
    const hv = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += data.x[i * d + k] * v[k];
      for (let k = 0; k < d; k++) hv[k] += (dot * data.x[i * d + k]) / n;
    }
    let norm = 0;
    for (let k = 0; k < d; k++) norm += hv[k] * hv[k];
    norm = Math.sqrt(norm);
    lambda = norm;
    v = hv.map((h) => h / norm);
  }
  return lambda;
}

import { SeededRandom } from '../random.js';

/**
 * Linear regression with outliers, after the paper's Appendix B: clean points x ~ N(0, I_d),
 * y = <theta*, x> + b* + noise (std `noise`), theta* ~ N(0, I_d / d), b* ~ N(0, 1) when `bias`
 * (the paper's model has a bias term, and so does the fitted model then); outliers with their
 * own inputs x ~ N(0, outlierScale^2 I_d) and targets y ~ N(0, outlierTargetStd^2) unrelated
 * to theta* (the paper: a standard normal, std 1); a clean test set drawn like the clean
 * points. The paper's d, n and noise level are not legible in our copy: d = 20, n = 1000 and
 * noise 0.1 are ours.
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
  /** A true bias b* ~ N(0, 1) in the clean targets, and a bias parameter in the model. */
  readonly bias: boolean;
}

/** Appendix B as written: outlier targets from N(0, 1), a bias term. */
export const DEFAULT_DATA: RegressionDataOptions = {
  dim: 20,
  cleanPoints: 1000,
  outlierFraction: 0.1,
  testPoints: 1000,
  noise: 0.1,
  outlierScale: 3,
  outlierTargetStd: 1,
  bias: true,
};

/** Our earlier setup, kept as a named variant: outlier targets 3 N(0, 1), no bias. */
export const SCALED_TARGETS_DATA: RegressionDataOptions = {
  ...DEFAULT_DATA,
  outlierTargetStd: 3,
  bias: false,
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
  /** b* (0 without a bias). */
  readonly intercept: number;
  /** Whether the model has a bias parameter: its parameters are then d + 1, the bias last. */
  readonly fitBias: boolean;
}

/** Number of model parameters: d, plus one for the bias. */
export function parameterCount(data: RegressionData): number {
  return data.dim + (data.fitBias ? 1 : 0);
}

/** Prediction <x_i, w> (+ w_d, the bias) for row i of `x` (row-major, d columns). */
export function predict(data: RegressionData, x: Float64Array, i: number, w: Float64Array): number {
  const d = data.dim;
  let p = data.fitBias ? w[d] : 0;
  for (let k = 0; k < d; k++) p += x[i * d + k] * w[k];
  return p;
}

export function makeRegressionData(seed: number, options: RegressionDataOptions): RegressionData {
  const rng = new SeededRandom(seed);
  const { dim: d, cleanPoints } = options;
  const outliers = Math.round(
    (options.outlierFraction * cleanPoints) / (1 - options.outlierFraction),
  );
  const n = cleanPoints + outliers;
  const theta = Float64Array.from({ length: d }, () => rng.normal() / Math.sqrt(d));
  const intercept = options.bias ? rng.normal() : 0;
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
    ys[i] = dot + intercept + options.noise * rng.normal();
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
  return { dim: d, x, y, isOutlier, testX, testY, theta, intercept, fitBias: options.bias };
}

/** Test mean squared error (1/n) sum (<x_i, w> + bias - y_i)^2. */
export function testMse(data: RegressionData, w: Float64Array): number {
  const n = data.testY.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const r = predict(data, data.testX, i, w) - data.testY[i];
    s += r * r;
  }
  return s / n;
}

/**
 * Largest eigenvalue of the training Hessian (1/n) Z^T Z of the mean squared loss / 2, with
 * Z = [X, 1] when the model has a bias, by power iteration (deterministic start).
 */
export function largestCurvature(data: RegressionData, iterations = 300): number {
  const d = data.dim;
  const p = parameterCount(data);
  const n = data.y.length;
  let v = new Float64Array(p).fill(1 / Math.sqrt(p));
  let lambda = 0;
  for (let it = 0; it < iterations; it++) {
    const hv = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      let dot = data.fitBias ? v[d] : 0;
      for (let k = 0; k < d; k++) dot += data.x[i * d + k] * v[k];
      for (let k = 0; k < d; k++) hv[k] += (dot * data.x[i * d + k]) / n;
      if (data.fitBias) hv[d] += dot / n;
    }
    let norm = 0;
    for (let k = 0; k < p; k++) norm += hv[k] * hv[k];
    norm = Math.sqrt(norm);
    lambda = norm;
    v = hv.map((h) => h / norm);
  }
  return lambda;
}

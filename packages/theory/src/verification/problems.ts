import type { SeededRandom } from '../random.js';

/**
 * A random convex problem with interpolation: f_i(x) = phi(<a_i, x - x*>) with phi convex,
 * phi(0) = 0 = min phi and 0 <= phi'' <= 1, so x* minimises every f_i, every gap
 * D_i(x) = f_i(x) - f_i(x*) equals the loss f_i(x), and f_i is ||a_i||^2-smooth.
 * - 'least-squares': phi(u) = u^2 / 2, i.e. f_i(x) = (<a_i, x> - y_i)^2 / 2, y_i = <a_i, x*>
 *   (a planted solution);
 * - 'log-cosh': phi(u) = log cosh u, smooth, convex, not quadratic (logistic-like tails:
 *   linear growth, phi'' = sech^2 u);
 * - 'soft-abs': phi(u) = delta^2 log cosh(u / delta), a smoothed delta |u| (phi'' <= 1): far
 *   from x* convexity <grad f_i, x - x*> >= D_i is nearly an equality, which makes the capped
 *   bound of Theorem 1 nearly attained.
 */
export interface InterpolatingProblem {
  readonly kind: 'least-squares' | 'log-cosh' | 'soft-abs';
  /** Number of samples M. */
  readonly size: number;
  readonly dim: number;
  /** Rows a_i, (M, d) row-major. */
  readonly features: Float64Array;
  readonly solution: Float64Array;
  /** L = max_i ||a_i||^2, the smoothness constant of every f_i. */
  readonly L: number;
  /** The gap D_i(x) (= the loss f_i(x)). */
  gap(i: number, x: Float64Array): number;
  /** Adds scale * grad f_i(x) into out. */
  addGradient(i: number, x: Float64Array, scale: number, out: Float64Array): void;
}

/** log cosh u = |u| + log1p(exp(-2|u|)) - log 2, stable for large |u|. */
function logCosh(u: number): number {
  const a = Math.abs(u);
  return a + Math.log1p(Math.exp(-2 * a)) - Math.LN2;
}

/** phi and phi' for each kind. */
function phi(kind: InterpolatingProblem['kind'], u: number, delta: number): number {
  if (kind === 'least-squares') return 0.5 * u * u;
  if (kind === 'log-cosh') return logCosh(u);
  return delta * delta * logCosh(u / delta);
}

function phiPrime(kind: InterpolatingProblem['kind'], u: number, delta: number): number {
  if (kind === 'least-squares') return u;
  if (kind === 'log-cosh') return Math.tanh(u);
  return delta * Math.tanh(u / delta);
}

export interface ProblemOptions {
  readonly kind: InterpolatingProblem['kind'];
  readonly size: number;
  readonly dim: number;
  /** 'random' (default): row norms spread over [0.2, 2]; 'equal': every ||a_i||^2 = 1 = L. */
  readonly rows?: 'random' | 'equal';
  /** Width of the quadratic zone of 'soft-abs' (default 0.05). */
  readonly delta?: number;
}

/**
 * Draws a problem: rows a_i with random per-row scales in [0.2, 2] (so the samples have
 * different smoothness and different gaps, which is what reweighting acts on) and x* ~ N(0, I).
 */
export function randomInterpolatingProblem(
  rng: SeededRandom,
  options: ProblemOptions,
): InterpolatingProblem {
  const { kind, size, dim } = options;
  const delta = options.delta ?? 0.05;
  const features = new Float64Array(size * dim);
  let L = 0;
  for (let i = 0; i < size; i++) {
    const scale = rng.between(0.2, 2) / Math.sqrt(dim);
    let norm2 = 0;
    for (let k = 0; k < dim; k++) {
      const v = scale * rng.normal();
      features[i * dim + k] = v;
      norm2 += v * v;
    }
    if (options.rows === 'equal') {
      for (let k = 0; k < dim; k++) features[i * dim + k] /= Math.sqrt(norm2);
      norm2 = 1;
    }
    L = Math.max(L, norm2);
  }
  const solution = new Float64Array(dim);
  for (let k = 0; k < dim; k++) solution[k] = rng.normal();
  const residual = (i: number, x: Float64Array): number => {
    let u = 0;
    for (let k = 0; k < dim; k++) u += features[i * dim + k] * (x[k] - solution[k]);
    return u;
  };
  return {
    kind,
    size,
    dim,
    features,
    solution,
    L,
    gap: (i, x) => phi(kind, residual(i, x), delta),
    addGradient: (i, x, scale, out) => {
      const g = scale * phiPrime(kind, residual(i, x), delta);
      for (let k = 0; k < dim; k++) out[k] += g * features[i * dim + k];
    },
  };
}

/**
 * A random smooth non-convex problem for Theorems 3/4 where Assumption 4 is exact:
 * f_i(x) = h(x) + <b_i, x> with sum_i b_i = 0, h(x) = sum_k (q_k x_k^2 / 2 + beta_k cos x_k),
 * beta_k > q_k (so h is non-convex near 0). Then F = h, grad f_i - grad F = b_i, so
 * sigma = max_i ||b_i|| exactly, L = max_k (q_k + beta_k), and inf F is computed exactly
 * (beta_k / q_k < pi keeps every critical point in (-pi, pi)).
 */
export interface NonConvexProblem {
  readonly size: number;
  readonly dim: number;
  readonly L: number;
  readonly sigma: number;
  readonly infF: number;
  /** Offsets b_i, (M, d) row-major. */
  readonly offsets: Float64Array;
  objective(x: Float64Array): number;
  /** grad F(x) into out. */
  gradient(x: Float64Array, out: Float64Array): void;
  /** f_i(x). */
  loss(i: number, x: Float64Array): number;
}

export function randomNonConvexProblem(
  rng: SeededRandom,
  options: { size: number; dim: number },
): NonConvexProblem {
  const { size, dim } = options;
  const q = new Float64Array(dim);
  const beta = new Float64Array(dim);
  let L = 0;
  let infF = 0;
  for (let k = 0; k < dim; k++) {
    q[k] = rng.between(0.2, 1);
    beta[k] = q[k] * rng.between(1.2, 2.4);
    L = Math.max(L, q[k] + beta[k]);
    // The positive minimiser solves q x = beta sin x on (0, pi); q x - beta sin x is convex
    // there, negative just right of 0 and positive at pi: bisection finds it.
    let lo = 1e-12;
    let hi = Math.PI;
    for (let it = 0; it < 200; it++) {
      const mid = 0.5 * (lo + hi);
      if (q[k] * mid - beta[k] * Math.sin(mid) < 0) lo = mid;
      else hi = mid;
    }
    const xk = 0.5 * (lo + hi);
    infF += 0.5 * q[k] * xk * xk + beta[k] * Math.cos(xk);
  }
  const offsets = new Float64Array(size * dim);
  const scale = rng.between(0.05, 1);
  for (let i = 0; i < size * dim; i++) offsets[i] = scale * rng.normal();
  for (let k = 0; k < dim; k++) {
    let mean = 0;
    for (let i = 0; i < size; i++) mean += offsets[i * dim + k];
    mean /= size;
    for (let i = 0; i < size; i++) offsets[i * dim + k] -= mean;
  }
  let sigma = 0;
  for (let i = 0; i < size; i++) {
    let n2 = 0;
    for (let k = 0; k < dim; k++) n2 += offsets[i * dim + k] ** 2;
    sigma = Math.max(sigma, Math.sqrt(n2));
  }
  const objective = (x: Float64Array): number => {
    let h = 0;
    for (let k = 0; k < dim; k++) h += 0.5 * q[k] * x[k] * x[k] + beta[k] * Math.cos(x[k]);
    return h;
  };
  return {
    size,
    dim,
    L,
    sigma,
    infF,
    offsets,
    objective,
    gradient: (x, out) => {
      for (let k = 0; k < dim; k++) out[k] = q[k] * x[k] - beta[k] * Math.sin(x[k]);
    },
    loss: (i, x) => {
      let lin = 0;
      for (let k = 0; k < dim; k++) lin += offsets[i * dim + k] * x[k];
      return objective(x) + lin;
    },
  };
}

/**
 * f_i(x) = (L/2) ||x||^2 + <b_i, x> with the given offsets (centred so that sum_i b_i = 0):
 * F(x) = (L/2) ||x||^2 has Hessian L I, so the descent lemma holds with equality, inf F = 0,
 * and sigma = max_i ||b_i|| (Assumption 4, exact). Used to make the non-convex bounds tight.
 */
export function quadraticProblemWithOffsets(
  L: number,
  rows: readonly number[][],
): NonConvexProblem {
  const size = rows.length;
  const dim = rows[0].length;
  const offsets = new Float64Array(size * dim);
  for (let k = 0; k < dim; k++) {
    let mean = 0;
    for (let i = 0; i < size; i++) mean += rows[i][k] / size;
    for (let i = 0; i < size; i++) offsets[i * dim + k] = rows[i][k] - mean;
  }
  let sigma = 0;
  for (let i = 0; i < size; i++) {
    let n2 = 0;
    for (let k = 0; k < dim; k++) n2 += offsets[i * dim + k] ** 2;
    sigma = Math.max(sigma, Math.sqrt(n2));
  }
  const objective = (x: Float64Array): number => {
    let h = 0;
    for (let k = 0; k < dim; k++) h += 0.5 * L * x[k] * x[k];
    return h;
  };
  return {
    size,
    dim,
    L,
    sigma,
    infF: 0,
    offsets,
    objective,
    gradient: (x, out) => {
      for (let k = 0; k < dim; k++) out[k] = L * x[k];
    },
    loss: (i, x) => {
      let lin = 0;
      for (let k = 0; k < dim; k++) lin += offsets[i * dim + k] * x[k];
      return objective(x) + lin;
    },
  };
}

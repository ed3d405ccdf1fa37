import type { BoundResult } from '../bound-result.js';
import { type NonConvexBoundInput, nonConvexBound } from '../nonconvex.js';
import {
  type CappedBoundInput,
  type ConvexBoundInput,
  theorem1CapFree,
  theorem1Capped,
} from '../theorem1.js';
import { type HeavyBallInput, theorem3HeavyBall } from '../theorem3.js';
import type { ConvexTrace, NonConvexTrace } from './runners.js';

/**
 * Relative floating-point tolerance of every check: a bound B "holds" for a measured value V
 * when V - B <= VERIFICATION_TOLERANCE * (|V| + sum of |terms of B|). Everything is float64;
 * the sums involved have at most a few thousand terms, so rounding stays far below 1e-9.
 */
export const VERIFICATION_TOLERANCE = 1e-9;

export interface CheckResult {
  /** Number of (instance, T) pairs checked. */
  readonly checked: number;
  readonly violations: number;
  /** max over checks of (V - B) / scale: <= tolerance when everything holds. */
  readonly worstExcess: number;
  /** max over checks of value / bound where bound > 0: how tight the bound is (<= 1). */
  readonly maxRatio: number;
  /** The first violation, for the error message. */
  readonly firstViolation: { T: number; value: number; bound: number } | null;
}

export const emptyCheck: CheckResult = {
  checked: 0,
  violations: 0,
  worstExcess: Number.NEGATIVE_INFINITY,
  maxRatio: Number.NEGATIVE_INFINITY,
  firstViolation: null,
};

/** Merges check results (e.g. over instances). */
export function mergeChecks(a: CheckResult, b: CheckResult): CheckResult {
  return {
    checked: a.checked + b.checked,
    violations: a.violations + b.violations,
    worstExcess: Math.max(a.worstExcess, b.worstExcess),
    maxRatio: Math.max(a.maxRatio, b.maxRatio),
    firstViolation: a.firstViolation ?? b.firstViolation,
  };
}

/** A bound as a function of the calculator input; override it to test a wrong constant. */
export type BoundFunction<I> = (input: I) => BoundResult;

/**
 * Checks value[T-1] <= bound(T) for every T = 1..n. `value[T-1]` is the measured left-hand
 * side after T steps.
 */
export function checkEveryT(value: Float64Array, boundAt: (T: number) => BoundResult): CheckResult {
  let violations = 0;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let maxRatio = Number.NEGATIVE_INFINITY;
  let firstViolation: CheckResult['firstViolation'] = null;
  for (let T = 1; T <= value.length; T++) {
    const v = value[T - 1];
    const r = boundAt(T);
    let scale = Math.abs(v);
    for (const term of Object.values(r.terms)) scale += Math.abs(term);
    const excess = (v - r.bound) / Math.max(scale, Number.MIN_VALUE);
    // NaN (a bound that does not exist) counts as a violation.
    if (!(excess <= VERIFICATION_TOLERANCE)) {
      violations++;
      firstViolation ??= { T, value: v, bound: r.bound };
    }
    worstExcess = Math.max(worstExcess, Number.isNaN(excess) ? Infinity : excess);
    if (r.bound > 0) maxRatio = Math.max(maxRatio, v / r.bound);
  }
  return { checked: value.length, violations, worstExcess, maxRatio, firstViolation };
}

function prefixMeans(v: Float64Array): Float64Array {
  const out = new Float64Array(v.length);
  let s = 0;
  for (let t = 0; t < v.length; t++) {
    s += v[t];
    out[t] = s / (t + 1);
  }
  return out;
}

export interface ConvexCheckParams {
  readonly L: number;
  readonly eta: number;
  readonly c?: number;
}

/**
 * Theorem 1 / 2 (capped or cap-free) on a (S)GD trace, at every T. The measured value is the
 * average minibatch-mean gap (the full gap F(x_t) - F* for gradient descent): the derivation
 * holds path by path for it, and its expectation is avg E(F(x_t) - F*), the theorem's quantity.
 */
export function checkConvexTrace(
  trace: ConvexTrace,
  params: ConvexCheckParams,
  form: 'capped' | 'cap-free',
  bound?: BoundFunction<CappedBoundInput>,
): CheckResult {
  const f: BoundFunction<CappedBoundInput> =
    bound ?? (form === 'capped' ? theorem1Capped : (i: ConvexBoundInput) => theorem1CapFree(i));
  return checkEveryT(prefixMeans(trace.batchGap), (T) =>
    f({
      L: params.L,
      eta: params.eta,
      c: params.c,
      distance0: trace.distance0,
      steps: trace.steps.slice(0, T),
    }),
  );
}

/**
 * Theorem 2 (heavy ball) on a trace, at every T. The measured value is
 * Q_T = (1/T) sum_{t<T} ((1 + lambda) Dbar_t - lambda Dbar'_t) + lambda (F(x_0) - F*) / T,
 * for which the derivation holds path by path; E Q_T = avg E(F(x_t) - F*) + lambda E(F(x_{T-1}) - F*)/T.
 * For full batch also checks avg (F(x_t) - F*) itself (`direct`).
 */
export function checkHeavyBallTrace(
  trace: ConvexTrace,
  params: { L: number; eta: number; lambda: number },
  bound: BoundFunction<HeavyBallInput> = theorem3HeavyBall,
): { path: CheckResult; direct: CheckResult } {
  const { lambda } = params;
  const n = trace.steps.length;
  const q = new Float64Array(n);
  let s = 0;
  for (let t = 0; t < n; t++) {
    s += (1 + lambda) * trace.batchGap[t] - lambda * trace.batchPreviousGap[t];
    q[t] = (s + lambda * trace.initialGap) / (t + 1);
  }
  const boundAt = (T: number) =>
    bound({
      L: params.L,
      eta: params.eta,
      lambda,
      distance0: trace.distance0,
      initialGap: trace.initialGap,
      steps: trace.steps.slice(0, T),
    });
  const full = trace.steps[0].weights.length === trace.datasetSize;
  return {
    path: checkEveryT(q, boundAt),
    direct: full ? checkEveryT(prefixMeans(trace.fullGap), boundAt) : emptyCheck,
  };
}

export interface NonConvexCheckParams {
  readonly L: number;
  readonly eta: number;
  readonly sigma: number;
  readonly datasetSize: number;
}

/**
 * Theorems 3/4 on a trace, at every T:
 * - `path`: the path-wise inequality behind the theorem,
 *   avg G_t <= 2 Delta/(eta (2 - L eta) T) - (2 (1 - L eta)/(2 - L eta)) avg rho_t
 *              + (L eta/(2 - L eta)) avg ||e_t||^2,
 *   G_t = ((1 - L eta) A_t + (L eta/2) ||grad F||^2) / (1 - L eta/2), E[G_t | x_t] = ||grad F(x_t)||^2;
 * - `noise`: ||e_t||^2 <= sigma^2 min(1, (tau_t + ||mean_B (grad f_i - grad F)|| / sigma)^2) at every t;
 * - `direct` (full batch only, where the calculator's bound is path-wise): avg ||grad F||^2 <= bound.
 */
export function checkNonConvexTrace(
  trace: NonConvexTrace,
  params: NonConvexCheckParams,
  bound: BoundFunction<NonConvexBoundInput> = nonConvexBound,
): { path: CheckResult; noise: CheckResult; direct: CheckResult } {
  const { L, eta, sigma, datasetSize } = params;
  const n = trace.steps.length;
  const b = trace.steps[0].weights.length;
  const g = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    g[t] =
      ((1 - L * eta) * trace.batchAlignment[t] + ((L * eta) / 2) * trace.gradNormSq[t]) /
      (1 - (L * eta) / 2);
  }
  const gMeans = prefixMeans(g);
  const e2Means = prefixMeans(trace.errorSq);
  // The path-wise form is the calculator's bound with its noise term (sigma = 0) replaced by
  // the realised (L eta/(2 - L eta)) avg ||e_t||^2.
  const path = checkEveryT(gMeans, (T) => {
    const r = bound({
      L,
      eta,
      sigma: 0,
      initialGap: trace.initialGap,
      datasetSize,
      steps: trace.steps.slice(0, T),
    });
    const noise = ((L * eta) / (2 - L * eta)) * e2Means[T - 1];
    return { ...r, bound: r.bound + noise, terms: { ...r.terms, noise } };
  });
  let noiseViolations = 0;
  let noiseWorst = Number.NEGATIVE_INFINITY;
  let noiseFirst: CheckResult['firstViolation'] = null;
  for (let t = 0; t < n; t++) {
    const w = trace.steps[t].weights;
    let tau = 0;
    for (let i = 0; i < b; i++) tau += Math.abs(w[i] - 1 / b);
    const s = sigma > 0 ? tau + trace.batchErrorNorm[t] / sigma : 0;
    const cap = sigma * sigma * Math.min(1, s * s);
    // Scaled by sigma^2, the natural size of ||e||^2: with uniform full-batch weights e is
    // rounding noise (~1e-33) on both sides.
    const scale = cap + trace.errorSq[t] + sigma * sigma;
    const excess = (trace.errorSq[t] - cap) / Math.max(scale, Number.MIN_VALUE);
    if (!(excess <= VERIFICATION_TOLERANCE)) {
      noiseViolations++;
      noiseFirst ??= { T: t + 1, value: trace.errorSq[t], bound: cap };
    }
    noiseWorst = Math.max(noiseWorst, excess);
  }
  const noise: CheckResult = {
    checked: n,
    violations: noiseViolations,
    worstExcess: noiseWorst,
    maxRatio: Number.NEGATIVE_INFINITY,
    firstViolation: noiseFirst,
  };
  const direct =
    b === datasetSize
      ? checkEveryT(prefixMeans(trace.gradNormSq), (T) =>
          bound({
            L,
            eta,
            sigma,
            initialGap: trace.initialGap,
            datasetSize,
            steps: trace.steps.slice(0, T),
          }),
        )
      : emptyCheck;
  return { path, noise, direct };
}

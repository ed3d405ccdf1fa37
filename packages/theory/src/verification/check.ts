import type { BoundResult } from '../bound-result.js';
import { type NonConvexBoundInput, nonConvexBound } from '../nonconvex.js';
import {
  type CappedBoundInput,
  type ConvexBoundInput,
  theorem1CapFree,
  theorem1Capped,
} from '../theorem1.js';
import { type HeavyBallInput, theorem3HeavyBall } from '../theorem3.js';
import { type Theorem4Input, theorem4NonConvexSgd } from '../theorem4.js';
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
 * Checks value[T-1] <= bound(T) for every T = 1..n (or, with `stride` s > 1, for
 * T = 1, s, 2s, ... and n: long runs cost O(n^2 / s)). `value[T-1]` is the measured left-hand
 * side after T steps.
 */
export function checkEveryT(
  value: Float64Array,
  boundAt: (T: number) => BoundResult,
  stride = 1,
): CheckResult {
  let violations = 0;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let maxRatio = Number.NEGATIVE_INFINITY;
  let firstViolation: CheckResult['firstViolation'] = null;
  let checked = 0;
  for (let T = 1; T <= value.length; T++) {
    if (stride > 1 && T !== 1 && T % stride !== 0 && T !== value.length) continue;
    checked++;
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
  return { checked, violations, worstExcess, maxRatio, firstViolation };
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
  /** Check every stride-th T only (default 1: every T). */
  readonly stride?: number;
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
  return checkEveryT(
    prefixMeans(trace.batchGap),
    (T) =>
      f({
        L: params.L,
        eta: params.eta,
        c: params.c,
        distance0: trace.distance0,
        steps: trace.steps.slice(0, T),
      }),
    params.stride,
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
  params: { L: number; eta: number; lambda: number; stride?: number },
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
    path: checkEveryT(q, boundAt, params.stride),
    direct: full ? checkEveryT(prefixMeans(trace.fullGap), boundAt, params.stride) : emptyCheck,
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

/**
 * Theorem 4 (gradient-norm form) on a trace, at every T:
 * - `path`: the path-wise inequality behind the theorem,
 *   avg H_t <= 2 Delta/(eta (2 - L eta) T) - ((1 - L eta)/(2 - L eta)) avg rho^g_t
 *              + ((1 - L eta)/(2 - L eta)) avg rho^e_t + (L eta/(2 - L eta)) avg ||e_t||^2,
 *   H_t = (||grad F||^2 + (1 - L eta) P_t) / (2 - L eta), E[H_t | x_t] = ||grad F(x_t)||^2;
 * - `deviation`: (1 - L eta) rho^e_t <= |1 - L eta| sigma^2 tau_t / 2 at every t;
 * - `direct` (full batch only): avg ||grad F||^2 <= the calculator's bound.
 * The noise step ||e_t||^2 <= sigma^2 min(1, ...) is checkNonConvexTrace's `noise`.
 */
export function checkTheorem4Trace(
  trace: NonConvexTrace,
  params: NonConvexCheckParams,
  bound: BoundFunction<Theorem4Input> = theorem4NonConvexSgd,
): { path: CheckResult; deviation: CheckResult; direct: CheckResult } {
  const { L, eta, sigma, datasetSize } = params;
  const n = trace.steps.length;
  const b = trace.steps[0].weights.length;
  const d = 2 - L * eta;
  const h = new Float64Array(n);
  for (let t = 0; t < n; t++)
    h[t] = (trace.gradNormSq[t] + (1 - L * eta) * trace.batchNormGap[t]) / d;
  const hMeans = prefixMeans(h);
  const e2Means = prefixMeans(trace.errorSq);
  const reMeans = prefixMeans(trace.rhoError);
  const path = checkEveryT(hMeans, (T) => {
    const r = bound({
      L,
      eta,
      sigma: 0,
      initialGap: trace.initialGap,
      datasetSize,
      steps: trace.steps.slice(0, T),
    });
    const deviation = ((1 - L * eta) / d) * reMeans[T - 1];
    const noise = ((L * eta) / d) * e2Means[T - 1];
    return {
      ...r,
      bound: r.bound + deviation + noise,
      terms: { ...r.terms, deviation, noise },
    };
  });
  const excess = new Float64Array(n);
  const caps = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const w = trace.steps[t].weights;
    let tau = 0;
    for (let i = 0; i < b; i++) tau += Math.abs(w[i] - 1 / b);
    excess[t] = (1 - L * eta) * trace.rhoError[t];
    caps[t] = (Math.abs(1 - L * eta) * sigma * sigma * tau) / 2;
  }
  const deviation = pointwise(excess, caps, sigma * sigma);
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
  return { path, deviation, direct };
}

/** value[t] <= cap[t] at every t, relative to scale + |value| + |cap|. */
function pointwise(value: Float64Array, cap: Float64Array, scale: number): CheckResult {
  let violations = 0;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let firstViolation: CheckResult['firstViolation'] = null;
  for (let t = 0; t < value.length; t++) {
    const s = Math.abs(value[t]) + Math.abs(cap[t]) + scale;
    const excess = (value[t] - cap[t]) / Math.max(s, Number.MIN_VALUE);
    if (!(excess <= VERIFICATION_TOLERANCE)) {
      violations++;
      firstViolation ??= { T: t + 1, value: value[t], bound: cap[t] };
    }
    worstExcess = Math.max(worstExcess, excess);
  }
  return {
    checked: value.length,
    violations,
    worstExcess,
    maxRatio: Number.NEGATIVE_INFINITY,
    firstViolation,
  };
}

/**
 * A bound with one term changed: multiplied by `factor` (0 removes it), and the bound re-summed
 * from the terms. Used to show that the verification can fail (mutation.test.ts).
 */
export function mutateTerm<I>(
  bound: BoundFunction<I>,
  term: string,
  factor: number,
): BoundFunction<I> {
  return (input) => {
    const r = bound(input);
    if (!(term in r.terms)) {
      throw new Error(`mutateTerm: ${r.result} has no term '${term}' (${Object.keys(r.terms)})`);
    }
    const terms: Record<string, number> = { ...r.terms, [term]: r.terms[term] * factor };
    let sum = 0;
    for (const v of Object.values(terms)) sum += v;
    return { ...r, terms, bound: sum };
  };
}

import type { AlignmentStep } from '../nonconvex.js';
import type { SeededRandom } from '../random.js';
import type { HeavyBallStep } from '../theorem3.js';
import type { GradientNormStep } from '../theorem4.js';
import type { InterpolatingProblem, NonConvexProblem } from './problems.js';

/**
 * A weighting rule: the weights of one step from the losses of its samples (all M for
 * full-batch methods, the b of the minibatch otherwise). It must return weights on the
 * simplex; e.g. `(l) => computeWeights(l, { strategy: 'linupper', r: 0.4 })`.
 */
export type WeightRule = (losses: Float64Array, step: number) => Float64Array;

export interface ConvexRunOptions {
  readonly eta: number;
  readonly steps: number;
  readonly weightRule: WeightRule;
  readonly x0: Float64Array;
  /** Minibatch size b (default M: full batch, Theorem 1). */
  readonly batchSize?: number;
  /** Heavy-ball averaging parameter lambda (default 0: plain (S)GD). */
  readonly lambda?: number;
  /** Needed when batchSize < M. */
  readonly rng?: SeededRandom;
}

/** What a run records, step by step, for the calculators and the path-wise checks. */
export interface ConvexTrace {
  /** M. */
  readonly datasetSize: number;
  readonly distance0: number;
  /** F(x_0) - F*. */
  readonly initialGap: number;
  /** Weights and gaps of B_t at x_t and x_{t-1} (previousGaps = gaps at t = 0). */
  readonly steps: HeavyBallStep[];
  /** F(x_t) - F* = mean_i D_i(x_t), t < T. */
  readonly fullGap: Float64Array;
  /** Mean gap over B_t at x_t (= fullGap for full batch). */
  readonly batchGap: Float64Array;
  /** Mean gap over B_t at x_{t-1}. */
  readonly batchPreviousGap: Float64Array;
  /** ||x_T - x*||^2 for the full-batch uniform sanity checks. */
  readonly finalDistanceSq: number;
}

function meanGap(problem: InterpolatingProblem, x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < problem.size; i++) s += problem.gap(i, x);
  return s / problem.size;
}

/**
 * Weighted (stochastic) heavy ball in iterate-moving-average form, which is weighted GD for
 * b = M and lambda = 0, and weighted minibatch SGD for b < M and lambda = 0:
 * g_t = sum_{i in B_t} w_i grad f_i(x_t), z_{t+1} = z_t - eta g_t,
 * x_{t+1} = (lambda x_t + z_{t+1}) / (1 + lambda), z_0 = x_0.
 */
export function runConvex(problem: InterpolatingProblem, options: ConvexRunOptions): ConvexTrace {
  const { eta, weightRule, x0 } = options;
  const M = problem.size;
  const d = problem.dim;
  const b = options.batchSize ?? M;
  const lambda = options.lambda ?? 0;
  if (b < M && options.rng === undefined) {
    throw new Error('runConvex: a minibatch run (batchSize < size) needs options.rng');
  }
  let x = Float64Array.from(x0);
  let xPrev = Float64Array.from(x0);
  const z = Float64Array.from(x0);
  const g = new Float64Array(d);
  const T = options.steps;
  const steps: HeavyBallStep[] = [];
  const fullGap = new Float64Array(T);
  const batchGap = new Float64Array(T);
  const batchPreviousGap = new Float64Array(T);
  let distance0Sq = 0;
  for (let k = 0; k < d; k++) distance0Sq += (x0[k] - problem.solution[k]) ** 2;
  const all = Int32Array.from({ length: M }, (_, i) => i);
  for (let t = 0; t < T; t++) {
    const batch = b === M ? all : options.rng!.sampleWithoutReplacement(M, b);
    const gaps = new Float64Array(b);
    const previousGaps = new Float64Array(b);
    for (let j = 0; j < b; j++) {
      gaps[j] = problem.gap(batch[j], x);
      previousGaps[j] = problem.gap(batch[j], xPrev);
    }
    const weights = weightRule(gaps, t);
    steps.push({ weights, gaps, previousGaps });
    fullGap[t] = meanGap(problem, x);
    batchGap[t] = mean(gaps);
    batchPreviousGap[t] = mean(previousGaps);
    g.fill(0);
    for (let j = 0; j < b; j++) problem.addGradient(batch[j], x, weights[j], g);
    for (let k = 0; k < d; k++) z[k] -= eta * g[k];
    const next = new Float64Array(d);
    for (let k = 0; k < d; k++) next[k] = (lambda * x[k] + z[k]) / (1 + lambda);
    xPrev = x;
    x = next;
  }
  let finalDistanceSq = 0;
  for (let k = 0; k < d; k++) finalDistanceSq += (x[k] - problem.solution[k]) ** 2;
  return {
    datasetSize: M,
    distance0: Math.sqrt(distance0Sq),
    initialGap: meanGap(problem, x0),
    steps,
    fullGap,
    batchGap,
    batchPreviousGap,
    finalDistanceSq,
  };
}

function mean(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
}

export interface NonConvexRunOptions {
  readonly eta: number;
  readonly steps: number;
  readonly weightRule: WeightRule;
  readonly x0: Float64Array;
  readonly batchSize?: number;
  readonly rng?: SeededRandom;
  /**
   * What the weight rule reads: the losses f_i(x_t) (default; what a trainer has) or the
   * gradient norms ||grad f_i(x_t)|| (Theorem 4's weighting).
   */
  readonly weightOn?: 'losses' | 'gradient-norms';
}

/** One recorded step: weights, alignments <grad f_i, grad F> and squared gradient norms. */
export interface NonConvexStep extends AlignmentStep, GradientNormStep {}

/** What a non-convex run records. */
export interface NonConvexTrace {
  readonly initialGap: number;
  readonly steps: NonConvexStep[];
  /** rho^e_t = sum_{i in B_t} (w_i - 1/b) ||grad f_i - grad F||^2. */
  readonly rhoError: Float64Array;
  /** P_t = (1/b) sum_{B_t} (||grad f_i||^2 - ||grad f_i - grad F||^2), E[P_t | x_t] = ||grad F||^2. */
  readonly batchNormGap: Float64Array;
  /** ||grad F(x_t)||^2. */
  readonly gradNormSq: Float64Array;
  /** A_t = (1/b) sum_{i in B_t} <grad f_i, grad F> (= ||grad F||^2 for full batch). */
  readonly batchAlignment: Float64Array;
  /** ||e_t||^2, e_t = g_t - grad F(x_t). */
  readonly errorSq: Float64Array;
  /** ||mean_{B_t} (grad f_i - grad F)||. */
  readonly batchErrorNorm: Float64Array;
}

/** Weighted minibatch SGD on a NonConvexProblem, recording the quantities of Theorems 3/4. */
export function runNonConvex(
  problem: NonConvexProblem,
  options: NonConvexRunOptions,
): NonConvexTrace {
  const { eta, weightRule } = options;
  const M = problem.size;
  const d = problem.dim;
  const b = options.batchSize ?? M;
  if (b < M && options.rng === undefined) {
    throw new Error('runNonConvex: a minibatch run (batchSize < size) needs options.rng');
  }
  const T = options.steps;
  const x = Float64Array.from(options.x0);
  const gradF = new Float64Array(d);
  const steps: NonConvexStep[] = [];
  const rhoError = new Float64Array(T);
  const batchNormGap = new Float64Array(T);
  const gradNormSq = new Float64Array(T);
  const batchAlignment = new Float64Array(T);
  const errorSq = new Float64Array(T);
  const batchErrorNorm = new Float64Array(T);
  const all = Int32Array.from({ length: M }, (_, i) => i);
  const { offsets } = problem;
  for (let t = 0; t < T; t++) {
    const batch = b === M ? all : options.rng!.sampleWithoutReplacement(M, b);
    problem.gradient(x, gradF);
    let gn = 0;
    for (let k = 0; k < d; k++) gn += gradF[k] * gradF[k];
    const losses = new Float64Array(b);
    const alignments = new Float64Array(b);
    const gradNormsSq = new Float64Array(b);
    const offsetNormsSq = new Float64Array(b);
    for (let j = 0; j < b; j++) {
      const i = batch[j];
      losses[j] = problem.loss(i, x);
      let dot = 0;
      let on = 0;
      for (let k = 0; k < d; k++) {
        dot += offsets[i * d + k] * gradF[k];
        on += offsets[i * d + k] ** 2;
      }
      alignments[j] = gn + dot; // <grad F + b_i, grad F>
      gradNormsSq[j] = gn + 2 * dot + on; // ||grad F + b_i||^2
      offsetNormsSq[j] = on;
    }
    const weights =
      options.weightOn === 'gradient-norms'
        ? weightRule(gradNormsSq.map(Math.sqrt), t)
        : weightRule(losses, t);
    steps.push({ weights, alignments, gradNormsSq });
    let re = 0;
    let p = 0;
    for (let j = 0; j < b; j++) {
      re += (weights[j] - 1 / b) * offsetNormsSq[j];
      p += (gradNormsSq[j] - offsetNormsSq[j]) / b;
    }
    rhoError[t] = re;
    batchNormGap[t] = p;
    gradNormSq[t] = gn;
    batchAlignment[t] = mean(alignments);
    let e2 = 0;
    let eb2 = 0;
    const step = new Float64Array(d);
    for (let k = 0; k < d; k++) {
      let e = 0;
      let eb = 0;
      for (let j = 0; j < b; j++) {
        const o = offsets[batch[j] * d + k];
        e += weights[j] * o;
        eb += o / b;
      }
      e2 += e * e;
      eb2 += eb * eb;
      step[k] = gradF[k] + e;
    }
    errorSq[t] = e2;
    batchErrorNorm[t] = Math.sqrt(eb2);
    for (let k = 0; k < d; k++) x[k] -= eta * step[k];
  }
  return {
    initialGap: problem.objective(options.x0) - problem.infF,
    steps,
    rhoError,
    batchNormGap,
    gradNormSq,
    batchAlignment,
    errorSq,
    batchErrorNorm,
  };
}

/**
 * Instance families built so that each term of each bound matters: on them the bounds are
 * nearly attained, so that a bound with a term removed or scaled by 10% is violated
 * (mutation.test.ts). Random instances (random-instances.ts) rarely come this close.
 *
 * Why each family is tight:
 * - equal row norms (||a_i||^2 = L) and least squares make growth and co-coercivity equalities;
 *   one-hot weights make Jensen an equality; with eta = 1/L a weighted GD step is an exact
 *   projection (Kaczmarz), so ||x_t - x*||^2 drops by exactly 2 eta sum_i w_i D_i;
 * - one-hot weights on the LOWEST loss stall (the chosen sample has zero loss after one
 *   step), so F(x_t) - F* stays positive while the reweighting term rho_t = -(F - F*) pays for
 *   it: over a long run the bound is the reweighting term;
 * - 'soft-abs' losses make convexity <grad f_i, x - x*> >= D_i nearly an equality, and a small
 *   step makes the capped form's factor 1/(1 - c eta L) nearly 1; with the loss carried by the
 *   up-weighted half only, the reweighting credit is as large as F - F* itself;
 * - weights 2/M on the top (or bottom) half of the losses are Proposition 1's r -> 0 optimum:
 *   the most loss-correlated weights the cap allows;
 * - for the non-convex bounds F = (L/2)||x||^2 makes the descent lemma an equality, and
 *   opposite offsets +-sigma v make the noise bound ||e|| <= sigma tau an equality.
 */
import { SeededRandom } from '../random.js';
import {
  type InterpolatingProblem,
  type NonConvexProblem,
  quadraticProblemWithOffsets,
  randomInterpolatingProblem,
} from './problems.js';
import type { WeightRule } from './runners.js';

/** One-hot weight on the largest ('top') or smallest ('bottom') loss. */
export function oneHotRule(side: 'top' | 'bottom'): WeightRule {
  return (losses) => {
    let best = 0;
    for (let i = 1; i < losses.length; i++) {
      if (side === 'top' ? losses[i] > losses[best] : losses[i] < losses[best]) best = i;
    }
    const w = new Float64Array(losses.length);
    w[best] = 1;
    return w;
  };
}

/**
 * Weight 2/n on the n/2 largest ('top') or smallest ('bottom') losses (n even), 0 on the rest:
 * Proposition 1's optimum as r -> 0, within the cap c = 2.
 */
export function halfRule(side: 'top' | 'bottom'): WeightRule {
  return (losses) => {
    const n = losses.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
      side === 'top' ? losses[b] - losses[a] : losses[a] - losses[b],
    );
    const w = new Float64Array(n);
    for (let j = 0; j < n / 2; j++) w[order[j]] = 2 / n;
    return w;
  };
}

/** Fixed weights, whatever the losses (any simplex weights are allowed by the cap-free results). */
export function fixedRule(weights: readonly number[]): WeightRule {
  return () => Float64Array.from(weights);
}

export interface ConvexFamilyInstance {
  readonly problem: InterpolatingProblem;
  readonly x0: Float64Array;
  readonly rule: WeightRule;
  readonly eta: number;
  readonly steps: number;
  readonly rng: SeededRandom;
  /** Check every stride-th T (long runs). */
  readonly stride: number;
}

export type ConvexFamily =
  | 'kaczmarz-top'
  | 'kaczmarz-bottom'
  | 'soft-abs-uniform'
  | 'soft-abs-top-half'
  | 'stall-bottom-half';

/**
 * A convex instance of a family. M even (4-8), d small, full batch unless the caller draws
 * minibatches from `rng`.
 */
export function convexFamilyInstance(family: ConvexFamily, seed: number): ConvexFamilyInstance {
  const rng = new SeededRandom(seed);
  const size = 2 * (2 + rng.int(3));
  if (family === 'kaczmarz-top' || family === 'kaczmarz-bottom') {
    const problem = randomInterpolatingProblem(rng, {
      kind: 'least-squares',
      size,
      dim: 2 + rng.int(3),
      rows: 'equal',
    });
    const x0 = Float64Array.from(problem.solution, (v) => v + rng.between(0.5, 2) * rng.normal());
    return {
      problem,
      x0,
      rule: oneHotRule(family === 'kaczmarz-top' ? 'top' : 'bottom'),
      eta: 1 / problem.L,
      steps: 80,
      rng,
      stride: 1,
    };
  }
  if (family === 'stall-bottom-half') {
    // Start where the two lowest-loss samples already have zero loss (x0 - x* orthogonal to
    // their rows, d = 3): weights 2/M on the bottom half give a zero step, F - F* stays put and
    // rho_t = -(F - F*). Over a long run the bound is its reweighting term divided by
    // 1 - c eta L = 0.96.
    const problem = randomInterpolatingProblem(rng, {
      kind: 'least-squares',
      size: 4,
      dim: 3,
      rows: 'equal',
    });
    const a = (i: number) => problem.features.subarray(3 * i, 3 * i + 3);
    const [p, q] = [a(0), a(1)];
    const v = [p[1] * q[2] - p[2] * q[1], p[2] * q[0] - p[0] * q[2], p[0] * q[1] - p[1] * q[0]];
    const norm = Math.hypot(v[0], v[1], v[2]);
    // Rows 2 and 3 close to the displacement, so that F - F* (what the bound must cover) is a
    // large share of ||x0 - x*||^2 (the initial term). The rows are renormalised in place:
    // the problem's closures read `features`, and L = 1 stays exact.
    for (const i of [2, 3]) {
      const row = a(i);
      for (let k = 0; k < 3; k++) row[k] = v[k] / norm + 0.3 * rng.normal();
      const len = Math.hypot(row[0], row[1], row[2]);
      for (let k = 0; k < 3; k++) row[k] /= len;
    }
    const scale = rng.between(1, 3) / norm;
    const x0 = Float64Array.from(problem.solution, (s, k) => s + scale * v[k]);
    return {
      problem,
      x0,
      rule: halfRule('bottom'),
      eta: 0.02 / problem.L,
      steps: 3000,
      rng,
      stride: 100,
    };
  }
  if (family === 'soft-abs-top-half') {
    // Rows +-e1 (the displacement's direction) and +-e2 (orthogonal: zero loss all along the
    // run), weights 2/M on the top half: the weighted samples carry all the loss, so
    // rho_t = F - F*, and far from x* (||x0 - x*|| / delta = 100) with c eta L = 0.04 the capped
    // bound is nearly attained with its reweighting credit at full size.
    const problem = randomInterpolatingProblem(rng, {
      kind: 'soft-abs',
      size: 4,
      dim: 2,
      rows: 'equal',
      delta: 0.003,
    });
    problem.features.set([1, 0, -1, 0, 0, 1, 0, -1]);
    const x0 = Float64Array.from(problem.solution, (v, k) => v + (k === 0 ? 0.3 : 0));
    return {
      problem,
      x0,
      rule: halfRule('top'),
      eta: 0.02 / problem.L,
      steps: 5500,
      rng,
      stride: 50,
    };
  }
  // 'soft-abs-uniform': one dimension, two samples, far from x* (||x0 - x*|| / delta = 30) and
  // a small step (c eta L = 0.04): the run takes about ||x0 - x*|| / (eta delta) steps to
  // arrive, and the capped bound is nearly attained (value/bound 0.92) when it does.
  const problem = randomInterpolatingProblem(rng, {
    kind: 'soft-abs',
    size: 2,
    dim: 1,
    rows: 'equal',
    delta: 0.01,
  });
  const x0 = Float64Array.from(problem.solution, (v) => v + 0.3);
  return {
    problem,
    x0,
    rule: (l) => new Float64Array(l.length).fill(1 / l.length),
    eta: 0.02 / problem.L,
    steps: 1700,
    rng,
    stride: 10,
  };
}

export interface NonConvexFamilyInstance {
  readonly problem: NonConvexProblem;
  readonly x0: Float64Array;
  readonly rule: WeightRule;
  readonly eta: number;
  readonly steps: number;
}

export type NonConvexFamily =
  | 'quadratic-uniform-one-step'
  | 'antipodal-tilted'
  | 'antipodal-tilted-half-step'
  | 'antipodal-aligned-start'
  | 'three-point-deviation';

/** A non-convex-bound instance of a family (full batch). */
export function nonConvexFamilyInstance(
  family: NonConvexFamily,
  seed: number,
): NonConvexFamilyInstance {
  const rng = new SeededRandom(seed);
  const L = rng.between(0.5, 2);
  const sigma = rng.between(0.3, 1.5);
  const dim = 1 + rng.int(3);
  const v = Float64Array.from({ length: dim }, () => rng.normal());
  const norm = Math.hypot(...v);
  const dir = Array.from(v, (x) => (sigma * x) / norm);
  if (family === 'quadratic-uniform-one-step') {
    // Uniform weights, eta = 1/L: one step reaches the minimiser, and at T = 1 the bound is
    // attained exactly.
    const problem = quadraticProblemWithOffsets(L, [dir, dir.map((x) => -x)]);
    const x0 = Float64Array.from({ length: dim }, () => rng.between(-2, 2));
    return { problem, x0, rule: fixedRule([0.5, 0.5]), eta: 1 / L, steps: 5 };
  }
  if (family === 'three-point-deviation') {
    // Offsets +-sigma v and 0; weights (w, 1/3, 2/3 - w)... favour the two large offsets
    // equally, so e = 0 while rho^e = sigma^2 tau / 2 (the deviation bound is attained).
    const problem = quadraticProblemWithOffsets(L, [dir, dir.map((x) => -x), dir.map(() => 0)]);
    const a = rng.between(0.1, 0.3);
    const x0 = new Float64Array(dim);
    return {
      problem,
      x0,
      rule: fixedRule([1 / 3 + a / 2, 1 / 3 + a / 2, 1 / 3 - a]),
      eta: rng.between(0.01, 0.03) / L,
      steps: 40,
    };
  }
  // Two opposite offsets and fixed tilted weights: the iteration settles where
  // grad F = -e, and there the bound is attained (eta = 1/L: through the noise term alone).
  const problem = quadraticProblemWithOffsets(L, [dir, dir.map((x) => -x)]);
  const tilt = rng.between(0.1, 0.4);
  const rule = fixedRule([0.5 + tilt, 0.5 - tilt]);
  if (family === 'antipodal-aligned-start') {
    // x0 = e/L: grad F(x0) = e, so the alignment term is ||e||^2 > 0, and with eta = 1/(2L)
    // one step lands on the minimiser of F: at T = 1 the bound is attained exactly.
    const x0 = Float64Array.from(dir, (x) => (2 * tilt * x) / L);
    return { problem, x0, rule, eta: 0.5 / L, steps: 3 };
  }
  const eta = family === 'antipodal-tilted' ? 1 / L : rng.between(0.3, 0.7) / L;
  const x0 = Float64Array.from({ length: dim }, () => rng.between(-0.5, 0.5));
  return { problem, x0, rule, eta, steps: 400 };
}

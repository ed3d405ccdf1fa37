/**
 * Random instances for the verification (unit tests and bench/soak.mjs): a problem, a start
 * point and a weight rule drawn from one seed.
 */
import { computeWeights, STRATEGIES, STRATEGY_NAMES, type StrategyName } from '@lrw/strategies';
import { SeededRandom } from '../random.js';
import {
  type InterpolatingProblem,
  type NonConvexProblem,
  randomInterpolatingProblem,
  randomNonConvexProblem,
} from './problems.js';
import type { WeightRule } from './runners.js';

export interface ConvexInstance {
  readonly problem: InterpolatingProblem;
  readonly x0: Float64Array;
  readonly rule: WeightRule;
  readonly ruleName: string;
  readonly rng: SeededRandom;
}

/**
 * The named strategies whose normalized scores span at most 1 on [-1, 1] (read from their
 * @lrw/strategies descriptors): with r >= 1/ln 2 their weights satisfy w_i <= 2/n (spec
 * reweighting.md section 8). Uniform (no spread: its own rule below) and raw-loss strategies
 * (KL-DRO: no such bound) are left out. Today: linupper, quadratic, extremes, linear.
 */
export const CAPPED_STRATEGIES: readonly StrategyName[] = STRATEGY_NAMES.filter((name) => {
  const { score, raw } = STRATEGIES[name];
  if (raw) return false;
  const scores = Array.from({ length: 201 }, (_, i) => score(i / 100 - 1));
  const spread = Math.max(...scores) - Math.min(...scores);
  return spread > 0 && spread <= 1;
});

/**
 * A weight rule. `capped`: only rules whose weights satisfy w_i <= 2/n (normalised scores in
 * [0, 1] with r >= 1/ln 2, spec reweighting.md section 8). Otherwise also dro-kl, small r,
 * Dirichlet-random weights and rules that favour LOW losses (rho < 0, the adversarial case).
 */
export function randomWeightRule(
  rng: SeededRandom,
  capped: boolean,
): { rule: WeightRule; name: string } {
  const kind = rng.int(capped ? 4 : 7);
  if (kind === 0)
    return { rule: (l) => computeWeights(l, { strategy: 'uniform', r: 1 }), name: 'uniform' };
  if (kind === 1 || kind === 2) {
    const strategy = CAPPED_STRATEGIES[rng.int(CAPPED_STRATEGIES.length)];
    const r = capped ? rng.between(1 / Math.LN2 + 1e-3, 4) : rng.between(0.05, 4);
    return { rule: (l) => computeWeights(l, { strategy, r }), name: `${strategy}@${r.toFixed(2)}` };
  }
  if (kind === 3) {
    // Favours low losses: 'linear' scores of the negated losses.
    const r = capped ? rng.between(1 / Math.LN2 + 1e-3, 4) : rng.between(0.05, 4);
    return {
      rule: (l) =>
        computeWeights(
          l.map((v) => -v),
          { strategy: 'linear', r },
        ),
      name: `low-loss@${r.toFixed(2)}`,
    };
  }
  if (kind === 4) {
    const r = rng.between(0.05, 3);
    return {
      rule: (l) => computeWeights(l, { strategy: 'dro-kl', r }),
      name: `dro-kl@${r.toFixed(2)}`,
    };
  }
  if (kind === 5) {
    const strategy = CAPPED_STRATEGIES[rng.int(CAPPED_STRATEGIES.length)];
    return { rule: (l) => computeWeights(l, { strategy, r: 0.02 }), name: `${strategy}@0.02` };
  }
  // Random weights on the simplex, unrelated to the losses.
  const wr = new SeededRandom(rng.nextUint32());
  return {
    rule: (l) => {
      const w = new Float64Array(l.length);
      let s = 0;
      for (let i = 0; i < w.length; i++) s += w[i] = -Math.log(1 - wr.uniform());
      for (let i = 0; i < w.length; i++) w[i] /= s;
      return w;
    },
    name: 'dirichlet',
  };
}

/**
 * A convex interpolating instance: least squares for even seeds, log-cosh for odd ones,
 * 4-16 samples in 2-8 dimensions, x0 = x* + N(0, s^2 I) with s in [0.3, 3].
 */
export function randomConvexInstance(seed: number, capped: boolean): ConvexInstance {
  const rng = new SeededRandom(seed);
  const kind = seed % 2 === 0 ? 'least-squares' : 'log-cosh';
  const problem = randomInterpolatingProblem(rng, {
    kind,
    size: 4 + rng.int(13),
    dim: 2 + rng.int(7),
  });
  const spread = rng.between(0.3, 3);
  const x0 = Float64Array.from(problem.solution, (v) => v + spread * rng.normal());
  const { rule, name } = randomWeightRule(rng, capped);
  return { problem, x0, rule, ruleName: name, rng };
}

export interface NonConvexInstance {
  readonly problem: NonConvexProblem;
  readonly eta: number;
  readonly batchSize: number;
  readonly x0: Float64Array;
  readonly rule: WeightRule;
  readonly rng: SeededRandom;
}

/**
 * A non-convex instance: 3-12 samples in 1-6 dimensions, eta in (0.05/L, 1.95/L), full batch
 * for even seeds and a random minibatch size otherwise, a random strategy and temperature.
 */
export function randomNonConvexInstance(seed: number): NonConvexInstance {
  const rng = new SeededRandom(seed);
  const problem = randomNonConvexProblem(rng, { size: 3 + rng.int(10), dim: 1 + rng.int(6) });
  const eta = rng.between(0.05, 1.95) / problem.L;
  const batchSize = seed % 2 === 0 ? problem.size : 1 + rng.int(problem.size - 1);
  const strategy = STRATEGY_NAMES[rng.int(STRATEGY_NAMES.length)];
  const r = rng.between(0.05, 3);
  const rule: WeightRule = (l) => computeWeights(l, { strategy, r });
  const x0 = Float64Array.from({ length: problem.dim }, () => rng.between(-4, 4));
  return { problem, eta, batchSize, x0, rule, rng };
}

import { computeWeights, type StrategyName } from '@lrw/strategies';
import { describe, expect, it } from 'vitest';
import { samplingVarianceFactor } from '../classical.js';
import { type NonConvexBoundInput, noiseFactor, nonConvexBound } from '../nonconvex.js';
import { SeededRandom } from '../random.js';
import {
  type CheckResult,
  checkNonConvexTrace,
  checkTheorem4Trace,
  emptyCheck,
  mergeChecks,
} from './check.js';
import { randomNonConvexProblem } from './problems.js';
import { randomNonConvexInstance } from './random-instances.js';
import { runNonConvex } from './runners.js';

const INSTANCES = 200;
const T = 40;
const STRATEGIES: StrategyName[] = [
  'uniform',
  'linupper',
  'quadratic',
  'extremes',
  'linear',
  'dro-kl',
];

function summary(r: CheckResult): string {
  return `${r.violations} violations in ${r.checked} checks, worst ${r.worstExcess.toExponential(2)}, first ${JSON.stringify(r.firstViolation)}`;
}

function verify(bound?: (input: NonConvexBoundInput) => ReturnType<typeof nonConvexBound>) {
  let path = emptyCheck;
  let noise = emptyCheck;
  let direct = emptyCheck;
  for (let k = 0; k < INSTANCES; k++) {
    const { rng, problem, eta, batchSize: b, rule, x0 } = randomNonConvexInstance(5000 + k);
    const trace = runNonConvex(problem, { eta, steps: T, weightRule: rule, x0, batchSize: b, rng });
    const params = { L: problem.L, eta, sigma: problem.sigma, datasetSize: problem.size };
    const r = checkNonConvexTrace(trace, params, bound);
    path = mergeChecks(path, r.path);
    noise = mergeChecks(noise, r.noise);
    direct = mergeChecks(direct, r.direct);
  }
  return { path, noise, direct };
}

describe('the non-convex alignment bound (and its full-batch corollary) holds on random smooth non-convex problems', () => {
  it(`${INSTANCES} instances (half full batch, half minibatch), every T <= ${T}, zero violations`, () => {
    const { path, noise, direct } = verify();
    expect(path.checked).toBe(INSTANCES * T);
    expect(path.violations, summary(path)).toBe(0);
    expect(noise.violations, summary(noise)).toBe(0);
    expect(direct.checked).toBe((INSTANCES / 2) * T);
    expect(direct.violations, summary(direct)).toBe(0);
  });

  it('a deliberately wrong constant (initial term 2 Delta -> Delta) is caught', () => {
    const wrong = (input: NonConvexBoundInput) =>
      nonConvexBound({ ...input, initialGap: input.initialGap / 2 });
    const { path, direct } = verify(wrong);
    expect(path.violations + direct.violations).toBeGreaterThan(0);
  });

  it('the expectation step holds exactly: enumeration of every minibatch of a small problem', () => {
    // E over B of ||e||^2 <= sigma^2 min(1, (sqrt(E tau^2) + sqrt(v_b))^2) and
    // E over B of G = ||grad F||^2, computed over all C(M, b) minibatches at random points.
    for (let k = 0; k < 30; k++) {
      const rng = new SeededRandom(9000 + k);
      const M = 4 + rng.int(4);
      const b = 1 + rng.int(M - 1);
      const problem = randomNonConvexProblem(rng, { size: M, dim: 1 + rng.int(4) });
      const strategy = STRATEGIES[rng.int(STRATEGIES.length)];
      const r = rng.between(0.05, 3);
      const x = Float64Array.from({ length: problem.dim }, () => rng.between(-3, 3));
      const gradF = new Float64Array(problem.dim);
      problem.gradient(x, gradF);
      let gn = 0;
      for (const v of gradF) gn += v * v;
      let count = 0;
      let e2 = 0;
      let tau2 = 0;
      let meanAlign = 0;
      for (const batch of subsets(M, b)) {
        const losses = Float64Array.from(batch, (i) => problem.loss(i, x));
        const w = computeWeights(losses, { strategy, r });
        let tau = 0;
        for (let j = 0; j < b; j++) tau += Math.abs(w[j] - 1 / b);
        let e = 0;
        let align = 0;
        for (let kk = 0; kk < problem.dim; kk++) {
          let ek = 0;
          for (let j = 0; j < b; j++) ek += w[j] * problem.offsets[batch[j] * problem.dim + kk];
          e += ek * ek;
        }
        for (let j = 0; j < b; j++) {
          let dot = 0;
          for (let kk = 0; kk < problem.dim; kk++)
            dot += problem.offsets[batch[j] * problem.dim + kk] * gradF[kk];
          align += (gn + dot) / b;
        }
        count++;
        e2 += e;
        tau2 += tau * tau;
        meanAlign += align;
      }
      e2 /= count;
      tau2 /= count;
      meanAlign /= count;
      const v = samplingVarianceFactor(b, M);
      const s = Math.sqrt(tau2) + Math.sqrt(v);
      expect(e2).toBeLessThanOrEqual(problem.sigma ** 2 * Math.min(1, s * s) * (1 + 1e-9));
      expect(meanAlign).toBeCloseTo(gn, 10);
      expect(noiseFactor(0, v)).toBe(v);
    }
  });
});

function* subsets(n: number, k: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix.slice();
    return;
  }
  for (let i = start; i < n; i++) {
    prefix.push(i);
    yield* subsets(n, k, i + 1, prefix);
    prefix.pop();
  }
}

describe('Theorem 4 holds on random smooth non-convex problems with gradient-norm weights', () => {
  it(`${INSTANCES} instances (half full batch), every T <= ${T}, zero violations`, () => {
    let path = emptyCheck;
    let deviation = emptyCheck;
    let direct = emptyCheck;
    let noise = emptyCheck;
    for (let k = 0; k < INSTANCES; k++) {
      const { rng, problem, eta, batchSize, rule, x0 } = randomNonConvexInstance(7000 + k);
      const trace = runNonConvex(problem, {
        eta,
        steps: T,
        weightRule: rule,
        x0,
        batchSize,
        rng,
        weightOn: 'gradient-norms',
      });
      const params = { L: problem.L, eta, sigma: problem.sigma, datasetSize: problem.size };
      const r = checkTheorem4Trace(trace, params);
      path = mergeChecks(path, r.path);
      deviation = mergeChecks(deviation, r.deviation);
      direct = mergeChecks(direct, r.direct);
      noise = mergeChecks(noise, checkNonConvexTrace(trace, params).noise);
    }
    expect(path.checked).toBe(INSTANCES * T);
    expect(path.violations, summary(path)).toBe(0);
    expect(deviation.violations, summary(deviation)).toBe(0);
    expect(noise.violations, summary(noise)).toBe(0);
    expect(direct.checked).toBe((INSTANCES / 2) * T);
    expect(direct.violations, summary(direct)).toBe(0);
    // Not vacuous: the full-batch bound is nearly attained on some instance.
    expect(direct.maxRatio).toBeGreaterThan(0.9);
  });
});

// Run after building: npx tsc -b && node examples/quick-start.mjs
import { computeWeights } from '@lrw/strategies';
import {
  optimalKlWeights,
  RunningAverage,
  randomInterpolatingProblem,
  rhoHat,
  runConvex,
  SeededRandom,
  theorem1CapFree,
  theorem1Capped,
} from '@lrw/theory';

// A least-squares problem with a planted solution (interpolation holds), 12 samples in 4-D.
const rng = new SeededRandom(0);
const problem = randomInterpolatingProblem(rng, { kind: 'least-squares', size: 12, dim: 4 });
const x0 = new Float64Array(4); // start at 0

// Weighted gradient descent with LinUpper weights (r = 1.5 keeps max w <= 2/M).
const eta = 0.4 / problem.L;
const trace = runConvex(problem, {
  eta,
  steps: 50,
  x0,
  weightRule: (losses) => computeWeights(losses, { strategy: 'linupper', r: 1.5 }),
});

// The bounds, from the history of weights and gaps.
const input = { L: problem.L, eta, distance0: trace.distance0, steps: trace.steps };
for (const result of [theorem1Capped(input), theorem1CapFree(input)]) {
  console.log(result.result, 'bounds', result.bounds);
  console.log(
    '  bound',
    result.bound.toFixed(5),
    'terms',
    result.terms,
    'uniform',
    result.uniformBound.toFixed(5),
  );
  for (const c of result.conditions)
    console.log(`  ${c.holds ? 'ok ' : 'NO '} ${c.name}: ${c.reason}`);
}
const measured = trace.fullGap.reduce((a, v) => a + v, 0) / trace.fullGap.length;
console.log('measured (1/T) sum (F(x_t) - F*) =', measured.toFixed(5));

// rho_hat, as a trainer logs it each step, and its running average.
const avg = new RunningAverage({ beta: 0.9 });
for (const step of trace.steps) avg.push(rhoHat(step.weights, step.gaps));
console.log('rho_hat: mean', avg.mean.toFixed(5), 'ema', avg.ema.toFixed(5));

// Proposition 1: the KL-regularised optimum under the paper's cap w_i <= 2/M
// ({ cap: Infinity } gives the plain softmax of Eq. 4).
const { weights, value } = optimalKlWeights([0.1, 0.5, 2.0], 0.5);
console.log(
  'Proposition 1 weights',
  Array.from(weights, (w) => w.toFixed(4)),
  'value',
  value.toFixed(4),
);

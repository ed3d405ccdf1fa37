// Soak test of every bound: many more random instances and longer runs than the unit tests.
// Usage: npm run bench -w @lrw/theory   (or: node bench/soak.mjs [instancesPerTheorem] [T])
// Needs the build (npx tsc -b). Exits with status 1 on any violation.
import {
  checkConvexTrace,
  checkHeavyBallTrace,
  checkNonConvexTrace,
  checkTheorem4Trace,
  emptyCheck,
  mergeChecks,
  randomConvexInstance,
  randomNonConvexInstance,
  runConvex,
  runNonConvex,
  theorem1CapFree,
  theorem1Capped,
  theorem3SgdCapFree,
  theorem3SgdCapped,
  VERIFICATION_TOLERANCE,
} from '../dist/index.js';

const instances = Number(process.argv[2] ?? 1000);
const T = Number(process.argv[3] ?? 200);
const SEED0 = 1_000_000; // disjoint from the unit tests' seeds

function convex(form, batch) {
  let check = emptyCheck;
  for (let k = 0; k < instances; k++) {
    const inst = randomConvexInstance(SEED0 + k, form === 'capped');
    const { problem, rng } = inst;
    const L = problem.L;
    const eta = form === 'capped' ? rng.between(0.02, 0.499) / L : rng.between(0.05, 1.95) / L;
    const b = batch === 'full' ? problem.size : 1 + rng.int(problem.size - 1);
    const trace = runConvex(problem, {
      eta,
      steps: T,
      weightRule: inst.rule,
      x0: inst.x0,
      batchSize: b,
      rng,
    });
    const calc =
      form === 'capped'
        ? batch === 'full'
          ? theorem1Capped
          : theorem3SgdCapped
        : batch === 'full'
          ? theorem1CapFree
          : theorem3SgdCapFree;
    check = mergeChecks(check, checkConvexTrace(trace, { L, eta, c: 2 }, form, calc));
  }
  return check;
}

function heavyBall() {
  let check = emptyCheck;
  for (let k = 0; k < instances; k++) {
    const inst = randomConvexInstance(SEED0 + k, false);
    const { problem, rng } = inst;
    const L = problem.L;
    const eta = rng.between(0.05, 1) / L;
    const lambda = rng.between(0, 9);
    const b = k % 2 === 0 ? problem.size : 1 + rng.int(problem.size - 1);
    const trace = runConvex(problem, {
      eta,
      lambda,
      steps: T,
      weightRule: inst.rule,
      x0: inst.x0,
      batchSize: b,
      rng,
    });
    const r = checkHeavyBallTrace(trace, { L, eta, lambda });
    check = mergeChecks(mergeChecks(check, r.path), r.direct);
  }
  return check;
}

function nonConvex() {
  let check = emptyCheck;
  for (let k = 0; k < instances; k++) {
    const { problem, eta, batchSize, x0, rule, rng } = randomNonConvexInstance(SEED0 + k);
    const trace = runNonConvex(problem, { eta, steps: T, weightRule: rule, x0, batchSize, rng });
    const r = checkNonConvexTrace(trace, {
      L: problem.L,
      eta,
      sigma: problem.sigma,
      datasetSize: problem.size,
    });
    check = mergeChecks(mergeChecks(mergeChecks(check, r.path), r.noise), r.direct);
  }
  return check;
}

function theorem4() {
  let check = emptyCheck;
  for (let k = 0; k < instances; k++) {
    const { problem, eta, batchSize, x0, rule, rng } = randomNonConvexInstance(SEED0 + k);
    const trace = runNonConvex(problem, {
      eta,
      steps: T,
      weightRule: rule,
      x0,
      batchSize,
      rng,
      weightOn: 'gradient-norms',
    });
    const r = checkTheorem4Trace(trace, {
      L: problem.L,
      eta,
      sigma: problem.sigma,
      datasetSize: problem.size,
    });
    check = mergeChecks(mergeChecks(mergeChecks(check, r.path), r.deviation), r.direct);
  }
  return check;
}

const cases = [
  ['Theorem 1 capped (c = 2)', () => convex('capped', 'full')],
  ['Theorem 1 cap-free', () => convex('cap-free', 'full')],
  ['Theorem 3 (i) SGD capped', () => convex('capped', 'minibatch')],
  ['Theorem 3 (i) SGD cap-free', () => convex('cap-free', 'minibatch')],
  ['Theorem 3 (ii) heavy ball', heavyBall],
  ['non-convex alignment form', nonConvex],
  ['Theorem 4 (gradient norms)', theorem4],
];
console.log(
  `soak: ${instances} instances per result, T = ${T}, tolerance ${VERIFICATION_TOLERANCE} (relative)`,
);
let failed = 0;
for (const [name, fn] of cases) {
  const t0 = performance.now();
  const r = fn();
  failed += r.violations;
  console.log(
    `${name.padEnd(28)} checks ${String(r.checked).padStart(8)}  violations ${r.violations}  ` +
      `max value/bound ${r.maxRatio.toFixed(4)}  worst relative excess ${r.worstExcess.toExponential(2)}  ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (r.firstViolation) console.log('  first violation:', r.firstViolation);
}
process.exitCode = failed === 0 ? 0 : 1;

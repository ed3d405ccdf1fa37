import { describe, expect, it } from 'vitest';
import type { BoundResult } from '../bound-result.js';
import { nonConvexBound } from '../nonconvex.js';
import { theorem1CapFree, theorem1Capped } from '../theorem1.js';
import { theorem3HeavyBall, theorem3SgdCapFree, theorem3SgdCapped } from '../theorem3.js';
import { theorem4NonConvexSgd } from '../theorem4.js';
import {
  type BoundFunction,
  type CheckResult,
  checkConvexTrace,
  checkHeavyBallTrace,
  checkNonConvexTrace,
  checkTheorem4Trace,
  emptyCheck,
  mergeChecks,
  mutateTerm,
} from './check.js';
import {
  type ConvexFamily,
  convexFamilyInstance,
  type NonConvexFamily,
  nonConvexFamilyInstance,
} from './families.js';
import { runConvex, runNonConvex } from './runners.js';

/*
 * Mutation testing of the verification: each term of each bound is removed (x0) or scaled by
 * 10% in the direction that tightens the bound (x0.9 for a positive term; for the reweighting
 * term, which has either sign, x0.9 where it is positive and x1.1 where it is negative), and
 * the checks must see violations on the family built to make that term matter (families.ts).
 * The unchanged bounds must hold on the same families.
 */

const INSTANCES = 3;
type Batch = 'full' | 'minibatch';

function convexRuns(family: ConvexFamily, batch: Batch, lambda = 0) {
  return Array.from({ length: INSTANCES }, (_, k) => {
    const inst = convexFamilyInstance(family, 100 + k);
    const M = inst.problem.size;
    const trace = runConvex(inst.problem, {
      eta: inst.eta,
      steps: inst.steps,
      weightRule: inst.rule,
      x0: inst.x0,
      batchSize: batch === 'full' ? M : Math.max(1, M - 2),
      rng: inst.rng,
      lambda,
    });
    return { inst, trace };
  });
}

type Checker = (bound: BoundFunction<never>) => CheckResult;

function convexChecker(family: ConvexFamily, batch: Batch, form: 'capped' | 'cap-free'): Checker {
  const runs = convexRuns(family, batch);
  return (bound) =>
    runs.reduce(
      (acc, { inst, trace }) =>
        mergeChecks(
          acc,
          checkConvexTrace(
            trace,
            { L: inst.problem.L, eta: inst.eta, c: 2, stride: inst.stride },
            form,
            bound as BoundFunction<unknown> as Parameters<typeof checkConvexTrace>[3],
          ),
        ),
      emptyCheck,
    );
}

function heavyBallChecker(family: ConvexFamily, batch: Batch): Checker {
  const lambdas = [0.5, 1, 3];
  const runs = lambdas.map((lambda) => ({ lambda, run: convexRuns(family, batch, lambda)[0] }));
  return (bound) =>
    runs.reduce((acc, { lambda, run: { inst, trace } }) => {
      const r = checkHeavyBallTrace(
        trace,
        { L: inst.problem.L, eta: inst.eta, lambda, stride: inst.stride },
        bound as BoundFunction<unknown> as Parameters<typeof checkHeavyBallTrace>[2],
      );
      return mergeChecks(mergeChecks(acc, r.path), r.direct);
    }, emptyCheck);
}

function nonConvexRuns(family: NonConvexFamily) {
  return Array.from({ length: INSTANCES }, (_, k) => {
    const inst = nonConvexFamilyInstance(family, 300 + k);
    const trace = runNonConvex(inst.problem, {
      eta: inst.eta,
      steps: inst.steps,
      weightRule: inst.rule,
      x0: inst.x0,
    });
    const params = {
      L: inst.problem.L,
      eta: inst.eta,
      sigma: inst.problem.sigma,
      datasetSize: inst.problem.size,
    };
    return { trace, params };
  });
}

function alignmentChecker(family: NonConvexFamily): Checker {
  const runs = nonConvexRuns(family);
  return (bound) =>
    runs.reduce((acc, { trace, params }) => {
      const r = checkNonConvexTrace(
        trace,
        params,
        bound as BoundFunction<unknown> as Parameters<typeof checkNonConvexTrace>[2],
      );
      return mergeChecks(mergeChecks(mergeChecks(acc, r.path), r.direct), r.noise);
    }, emptyCheck);
}

function theorem4Checker(family: NonConvexFamily): Checker {
  const runs = nonConvexRuns(family);
  return (bound) =>
    runs.reduce((acc, { trace, params }) => {
      const r = checkTheorem4Trace(
        trace,
        params,
        bound as BoundFunction<unknown> as Parameters<typeof checkTheorem4Trace>[2],
      );
      return mergeChecks(mergeChecks(mergeChecks(acc, r.path), r.direct), r.deviation);
    }, emptyCheck);
}

interface Case {
  readonly bound: string;
  readonly fn: (input: never) => BoundResult;
  readonly term: string;
  readonly factor: number;
  readonly family: string;
  readonly checker: () => Checker;
}

/** Checkers are built lazily and shared by the cases that use the same family. */
const cache = new Map<string, Checker>();
function shared(key: string, make: () => Checker): () => Checker {
  return () => {
    let c = cache.get(key);
    if (c === undefined) {
      c = make();
      cache.set(key, c);
    }
    return c;
  };
}

const fn = <I>(f: (input: I) => BoundResult) => f as (input: never) => BoundResult;

function cases(
  bound: string,
  f: (input: never) => BoundResult,
  rows: [term: string, factors: number[], family: string, checker: () => Checker][],
): Case[] {
  return rows.flatMap(([term, factors, family, checker]) =>
    factors.map((factor) => ({ bound, fn: f, term, factor, family, checker })),
  );
}

const kTop = (batch: Batch, form: 'capped' | 'cap-free') =>
  shared(`kaczmarz-top/${batch}/${form}`, () => convexChecker('kaczmarz-top', batch, form));
const kBottom = (batch: Batch, form: 'capped' | 'cap-free') =>
  shared(`kaczmarz-bottom/${batch}/${form}`, () => convexChecker('kaczmarz-bottom', batch, form));
const softAbs = (batch: Batch) =>
  shared(`soft-abs/${batch}`, () => convexChecker('soft-abs-uniform', batch, 'capped'));
const softAbsTop = (batch: Batch) =>
  shared(`soft-abs-top/${batch}`, () => convexChecker('soft-abs-top-half', batch, 'capped'));
const stall = (batch: Batch) =>
  shared(`stall/${batch}`, () => convexChecker('stall-bottom-half', batch, 'capped'));
const hb = (family: ConvexFamily, batch: Batch) =>
  shared(`hb/${family}/${batch}`, () => heavyBallChecker(family, batch));
const al = (family: NonConvexFamily) => shared(`al/${family}`, () => alignmentChecker(family));
const t4 = (family: NonConvexFamily) => shared(`t4/${family}`, () => theorem4Checker(family));

const CASES: Case[] = [
  ...cases('theorem1CapFree', fn(theorem1CapFree), [
    ['initial', [0, 0.9], 'kaczmarz-top', kTop('full', 'cap-free')],
    ['reweighting', [1.1], 'kaczmarz-top', kTop('full', 'cap-free')],
    ['reweighting', [0, 0.9], 'kaczmarz-bottom', kBottom('full', 'cap-free')],
  ]),
  ...cases('theorem3SgdCapFree', fn(theorem3SgdCapFree), [
    ['initial', [0, 0.9], 'kaczmarz-top (minibatch)', kTop('minibatch', 'cap-free')],
    ['reweighting', [1.1], 'kaczmarz-top (minibatch)', kTop('minibatch', 'cap-free')],
    ['reweighting', [0, 0.9], 'kaczmarz-bottom (minibatch)', kBottom('minibatch', 'cap-free')],
  ]),
  ...cases('theorem1Capped', fn(theorem1Capped), [
    ['initial', [0, 0.9], 'soft-abs-uniform', softAbs('full')],
    ['reweighting', [1.1], 'soft-abs-top-half', softAbsTop('full')],
    ['reweighting', [0, 0.9], 'stall-bottom-half', stall('full')],
  ]),
  ...cases('theorem3SgdCapped', fn(theorem3SgdCapped), [
    ['initial', [0, 0.9], 'soft-abs-uniform (minibatch)', softAbs('minibatch')],
    ['reweighting', [0], 'stall-bottom-half (minibatch)', stall('minibatch')],
    ['reweighting', [0.9], 'stall-bottom-half (b = M)', stall('full')],
    ['reweighting', [1.1], 'soft-abs-top-half (b = M)', softAbsTop('full')],
  ]),
  ...cases('theorem3HeavyBall', fn(theorem3HeavyBall), [
    ['initial', [0, 0.9], 'kaczmarz-top', hb('kaczmarz-top', 'full')],
    ['reweighting', [1.1], 'kaczmarz-top (minibatch)', hb('kaczmarz-top', 'minibatch')],
    ['reweighting', [0, 0.9], 'kaczmarz-bottom', hb('kaczmarz-bottom', 'full')],
  ]),
  ...cases('nonConvexBound', fn(nonConvexBound), [
    ['initial', [0, 0.9], 'quadratic-uniform-one-step', al('quadratic-uniform-one-step')],
    ['reweighting', [0, 0.9], 'antipodal-tilted-half-step', al('antipodal-tilted-half-step')],
    ['reweighting', [1.1], 'antipodal-aligned-start', al('antipodal-aligned-start')],
    ['noise', [0, 0.9], 'antipodal-tilted', al('antipodal-tilted')],
  ]),
  ...cases('theorem4NonConvexSgd', fn(theorem4NonConvexSgd), [
    ['initial', [0, 0.9], 'quadratic-uniform-one-step', t4('quadratic-uniform-one-step')],
    ['reweighting', [0, 0.9], 'antipodal-tilted-half-step', t4('antipodal-tilted-half-step')],
    ['reweighting', [1.1], 'three-point-deviation', t4('three-point-deviation')],
    ['deviation', [0, 0.9], 'three-point-deviation', t4('three-point-deviation')],
    ['noise', [0], 'antipodal-tilted-half-step', t4('antipodal-tilted-half-step')],
    ['noise', [0.9], 'antipodal-tilted', t4('antipodal-tilted')],
  ]),
];

describe('mutation testing: every term of every bound matters to the verification', () => {
  it('the unchanged bounds hold on every family used below', () => {
    const seen = new Set<string>();
    for (const c of CASES) {
      const key = `${c.bound}/${c.family}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const r = c.checker()(c.fn as BoundFunction<never>);
      expect(r.violations, `${key}: ${JSON.stringify(r.firstViolation)}`).toBe(0);
      expect(r.checked).toBeGreaterThan(0);
    }
  });

  for (const c of CASES) {
    it(`${c.bound}: ${c.term} x ${c.factor} is caught on ${c.family}`, () => {
      const mutant = mutateTerm(c.fn as BoundFunction<never>, c.term, c.factor);
      const r = c.checker()(mutant);
      expect(r.violations, `${c.bound} ${c.term} x ${c.factor}`).toBeGreaterThan(0);
    });
  }

  it('covers every term of every bound', () => {
    const expected: Record<string, string[]> = {
      theorem1CapFree: ['initial', 'reweighting'],
      theorem3SgdCapFree: ['initial', 'reweighting'],
      theorem1Capped: ['initial', 'reweighting'],
      theorem3SgdCapped: ['initial', 'reweighting'],
      theorem3HeavyBall: ['initial', 'reweighting'],
      nonConvexBound: ['initial', 'reweighting', 'noise'],
      theorem4NonConvexSgd: ['initial', 'reweighting', 'deviation', 'noise'],
    };
    for (const [bound, terms] of Object.entries(expected)) {
      for (const term of terms) {
        const factors = CASES.filter((c) => c.bound === bound && c.term === term).map(
          (c) => c.factor,
        );
        expect(factors, `${bound}.${term}`).toContain(0);
      }
    }
  });
});

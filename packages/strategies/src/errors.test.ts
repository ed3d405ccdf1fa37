import { describe, expect, it } from 'vitest';
import { computeWeights } from './compute-weights.js';
import { ReweightError } from './errors.js';
import { normalizeLosses } from './normalize.js';
import { STRATEGY_NAMES, strategyScores } from './strategies.js';
import { temperatureSoftmax } from './temperature-softmax.js';
import { weightStats } from './weight-stats.js';

function errorOf(fn: () => unknown): ReweightError {
  try {
    fn();
  } catch (e) {
    if (ReweightError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a ReweightError');
}

describe('bad input gives a clear, actionable error', () => {
  it('NaN loss: names the index and value and both fixes', () => {
    const e = errorOf(() => computeWeights([1, Number.NaN, 2], { strategy: 'linupper', r: 1 }));
    expect(e.code).toBe('non-finite-loss');
    expect(e.message).toContain('losses[1] = NaN');
    expect(e.message).toContain("nonFinite: 'zero'");
    expect(e.message).toContain("option 'active'");
  });

  it('infinite loss, in every strategy and in the stages', () => {
    for (const strategy of ['uniform', 'linupper', 'dro-kl'] as const) {
      expect(errorOf(() => computeWeights([1, Infinity], { strategy, r: 1 })).code).toBe(
        'non-finite-loss',
      );
    }
    expect(errorOf(() => normalizeLosses([-Infinity, 1])).message).toContain('losses[0]');
    expect(errorOf(() => temperatureSoftmax([0, Number.NaN], 1)).message).toContain('scores[1]');
    expect(errorOf(() => strategyScores([Number.NaN], 'extremes')).code).toBe('non-finite-loss');
  });

  it('NaN or infinite loss anywhere, every strategy and temperature: the first bad index', () => {
    // The fast path finds NaN through the exponential sum and infinities through min/max.
    const strategies = [...STRATEGY_NAMES, (x: number) => x * 0 + 1];
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      for (const at of [0, 2, 4]) {
        const losses = [1, 2, 3, 4, 5];
        losses[at] = bad;
        losses[4] = at === 0 ? bad : losses[4]; // a second bad loss: the first is named
        for (const strategy of strategies) {
          for (const r of [0.4, Infinity, 1e-4]) {
            const e = errorOf(() => computeWeights(losses, { strategy, r }));
            expect(e.code).toBe('non-finite-loss');
            expect(e.message).toContain(`losses[${at}] = ${String(bad)}`);
          }
        }
      }
    }
  });

  it('negative, zero or NaN r: names the value and the fix', () => {
    for (const r of [-0.4, 0, Number.NaN]) {
      const e = errorOf(() => computeWeights([1, 2], { strategy: 'linupper', r }));
      expect(e.code).toBe('invalid-temperature');
      expect(e.message).toContain(`r = ${String(r)}`);
      expect(e.message).toContain('> 0');
    }
    expect(errorOf(() => temperatureSoftmax([1], -1)).code).toBe('invalid-temperature');
  });

  it('a string r is shown as a string, not as the number it spells', () => {
    const e = errorOf(() => computeWeights([1, 2], { strategy: 'linupper', r: '0.4' as never }));
    expect(e.code).toBe('invalid-temperature');
    expect(e.message).toContain('r = "0.4" is not a valid temperature: use a number > 0');
    expect(errorOf(() => normalizeLosses([1, 2], { delta: '1' as never })).message).toContain(
      'delta = "1" must be a finite number > 0',
    );
  });

  it('losses that are not an array: says so, not something about out', () => {
    for (const losses of [5, null, undefined, { n: 3 }]) {
      const e = errorOf(() => computeWeights(losses as never, { strategy: 'linupper', r: 0.4 }));
      expect(e.code).toBe('invalid-option');
      expect(e.message).toBe('losses is not an array: pass an array of at least one loss.');
    }
    expect(errorOf(() => temperatureSoftmax(7 as never, 1)).message).toContain(
      'scores is not an array',
    );
  });

  it('empty arrays', () => {
    expect(errorOf(() => computeWeights([], { strategy: 'linupper', r: 1 })).code).toBe(
      'empty-losses',
    );
    expect(errorOf(() => normalizeLosses(new Float32Array(0))).message).toContain(
      'losses is empty',
    );
    expect(errorOf(() => temperatureSoftmax([], 1)).message).toContain('scores is empty');
  });

  it('unknown strategy names list the valid ones and explain reference aliases', () => {
    const unknown = errorOf(() => computeWeights([1], { strategy: 'LinUp' as 'linupper', r: 1 }));
    expect(unknown.code).toBe('unknown-strategy');
    expect(unknown.message).toContain('"LinUp"');
    expect(unknown.message).toContain(
      'use one of uniform, linupper, quadratic, extremes, linear, dro-kl',
    );
    const upper = errorOf(() => computeWeights([1], { strategy: 'upper' as 'linupper', r: 1 }));
    expect(upper.message).toContain("ambiguous: 'linupper' in fms-fsdp, 'linear' in trainer.py");
    const dro = errorOf(() => computeWeights([1], { strategy: 'DRO_KL' as 'linupper', r: 1 }));
    expect(dro.message).toContain("use 'dro-kl'");
    const mid = errorOf(() => computeWeights([1], { strategy: 'mid' as 'linupper', r: 1 }));
    expect(mid.message).toContain("use 'quadratic'");
    const spelled = errorOf(() =>
      computeWeights([1], { strategy: 'LinUpper' as 'linupper', r: 1 }),
    );
    expect(spelled.message).toContain("(use 'linupper')");
  });

  it('bad delta, epsilon, nonFinite and mismatched active', () => {
    expect(errorOf(() => normalizeLosses([1, 2], { delta: 0 })).message).toContain('delta = 0');
    expect(errorOf(() => normalizeLosses([1, 2], { epsilon: -1 })).message).toContain(
      'epsilon = -1',
    );
    const nf = errorOf(() =>
      computeWeights([1], { strategy: 'linupper', r: 1, nonFinite: 'skip' as 'zero' }),
    );
    expect(nf.message).toContain('"skip"');
    const act = errorOf(() => computeWeights([1, 2], { strategy: 'linupper', r: 1, active: [1] }));
    expect(act.code).toBe('shape-mismatch');
  });

  it('a custom score function that returns NaN is reported', () => {
    const e = errorOf(() => computeWeights([1, 2], { strategy: () => Number.NaN, r: 1 }));
    expect(e.message).toContain('custom score function returned NaN');
  });

  it('isInstance recognises the error; plain errors are not', () => {
    expect(ReweightError.isInstance(new ReweightError('invalid-option', 'x'))).toBe(true);
    expect(ReweightError.isInstance(new Error('x'))).toBe(false);
    expect(ReweightError.isInstance(null)).toBe(false);
    expect(ReweightError.isInstance(undefined)).toBe(false);
    expect(ReweightError.isInstance('ReweightError')).toBe(false);
  });
});

describe("non-finite losses as weight 0 (nonFinite: 'zero')", () => {
  it('gives them weight 0, weights the rest exactly as if they were absent, reports the count', () => {
    const losses = [2.0, Number.NaN, 3.0, Infinity, 2.5, 4.0, -Infinity];
    const w = computeWeights(losses, { strategy: 'linupper', r: 0.4, nonFinite: 'zero' });
    const finite = computeWeights([2.0, 3.0, 2.5, 4.0], { strategy: 'linupper', r: 0.4 });
    const expected = [finite[0], 0, finite[1], 0, finite[2], finite[3], 0];
    for (let i = 0; i < 7; i++) expect(w[i]).toBeCloseTo(expected[i], 15);
    expect([w[1], w[3], w[6]]).toEqual([0, 0, 0]);
    const stats = weightStats(w, losses);
    expect(stats.nonFiniteCount).toBe(3);
    expect(stats.excludedCount).toBe(3);
    expect(stats.n).toBe(4);
    expect(stats.meanLoss).toBeCloseTo(2.875, 12);
  });

  it('all non-finite gives all-zero weights rather than NaN', () => {
    const w = computeWeights([Number.NaN, Number.NaN], {
      strategy: 'quadratic',
      r: 1,
      nonFinite: 'zero',
    });
    expect(Array.from(w)).toEqual([0, 0]);
    expect(weightStats(w, [Number.NaN, Number.NaN]).n).toBe(0);
  });
});

describe('samples with no active targets (spec section 1)', () => {
  it('are left out of normalization and get weight 0, whatever their loss', () => {
    // numActive counts can be passed directly: 0 excludes.
    const losses = [2.0, 0, 3.0, Number.NaN, 4.0];
    const numActive = [12, 0, 7, 0, 3];
    for (const strategy of ['uniform', 'linupper', 'quadratic', 'extremes', 'dro-kl'] as const) {
      const w = computeWeights(losses, { strategy, r: 0.5, active: numActive });
      const ref = computeWeights([2.0, 3.0, 4.0], { strategy, r: 0.5 });
      const expected = [ref[0], 0, ref[1], 0, ref[2]];
      for (let i = 0; i < 5; i++) expect(w[i]).toBeCloseTo(expected[i], 15);
      expect([w[1], w[3]]).toEqual([0, 0]);
    }
    const x = normalizeLosses(losses, { active: numActive });
    expect(Array.from(x)).toEqual([-1, 0, 0, 0, 1]);
    const stats = weightStats(
      computeWeights(losses, { strategy: 'linupper', r: 1, active: numActive }),
      losses,
      { active: numActive },
    );
    expect(stats).toMatchObject({ n: 3, excludedCount: 2, nonFiniteCount: 1 });
  });

  it('weightStats refuses a non-zero weight on an excluded sample', () => {
    expect(() => weightStats([0.5, 0.5], [1, 2], { active: [true, false] })).toThrow(
      /weights\[1\] = 0.5 but sample 1 is excluded/,
    );
  });
});

describe('normalization near the rounding limit', () => {
  // Ranges of about 1e-6 at losses of about 1 to 11: the reference formula computed as
  // 2 l - (hi + lo) gave x = +-1.0000000002 here, out of [-1, 1], and asymmetric weights.
  const pairs = [
    [3.3878083983436227, 3.3878103118368874],
    [1.4934117523953319, 1.4934136081788887],
    [10.728050315752625, 10.728051847003412],
  ];

  it('keeps x in [-1, 1], the ends exactly -1 and 1', () => {
    for (const [lo, hi] of pairs) {
      const x = normalizeLosses([hi, lo, (lo + hi) / 2, lo + 0.25 * (hi - lo)]);
      expect([x[0], x[1]]).toEqual([1, -1]);
      for (const v of x) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      // A score defined on [-1, 1] only works at the ends.
      const w = computeWeights([lo, hi, lo], { strategy: (v) => Math.sqrt(1 - v * v), r: 0.5 });
      expect(w[0]).toBe(w[2]);
      expect(w[0] + w[1] + w[2]).toBeCloseTo(1, 15);
    }
  });

  it('gives the two ends equal weight for symmetric strategies, on the fused and general paths', () => {
    for (const [lo, hi] of pairs) {
      for (const strategy of ['extremes', 'quadratic', (v: number) => v * v] as const) {
        for (const active of [undefined, [1, 1]]) {
          const w = computeWeights([lo, hi], { strategy, r: 0.01, active });
          expect(w[0]).toBe(w[1]);
          expect(w[0]).toBe(0.5);
        }
      }
    }
  });
});

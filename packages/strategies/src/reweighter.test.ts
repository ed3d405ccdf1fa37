import { describe, expect, it } from 'vitest';
import { computeWeights } from './compute-weights.js';
import { Reweighter } from './reweighter.js';
import { constantTemperature, plainMeanWarmup, stepTemperature } from './schedules.js';

const typical = [2.1, 2.5, 3.0, 3.3, 4.8, 2.9, 3.1, 2.2];

describe('Reweighter', () => {
  it('returns computeWeights for the scheduled r, with stats', () => {
    const rw = new Reweighter({ strategy: 'linupper', schedule: 0.4 });
    const out = rw.weigh(typical, 0);
    expect(out.r).toBe(0.4);
    expect(out.plainMean).toBe(false);
    expect(Array.from(out.weights)).toEqual(
      Array.from(computeWeights(typical, { strategy: 'linupper', r: 0.4 })),
    );
    // Golden typical_lm_8 at r = 0.4 breaks the 2/n cap (n * w_max = 2.33): reported.
    expect(out.stats.maxWeightTimesN).toBeCloseTo(2.33, 2);
    expect(out.stats.capHolds).toBe(false);
    expect(rw.totals()).toMatchObject({ steps: 1, capBreaks: 1, capBreakFraction: 1 });
  });

  it('plain-mean warm-up gives exactly uniform weights, then the strategy', () => {
    const rw = new Reweighter({
      strategy: 'quadratic',
      schedule: plainMeanWarmup(2, constantTemperature(1)),
    });
    const w0 = rw.weigh(typical, 0);
    expect(w0.plainMean).toBe(true);
    expect(Array.from(w0.weights)).toEqual(new Array(8).fill(1 / 8));
    expect(w0.stats.rhoHat).toBeCloseTo(0, 14);
    expect(rw.weigh(typical, 2).plainMean).toBe(false);
    expect(rw.totals().capBreakFraction).toBe(0);
  });

  it('state() / load() resume the totals; a mismatched config is refused', () => {
    const make = () =>
      new Reweighter({
        strategy: 'extremes',
        schedule: stepTemperature({ r0: 100, r: 0.4, warmupSteps: 3 }),
        nonFinite: 'zero',
      });
    const a = make();
    for (let step = 0; step < 6; step++) a.weigh([...typical, Number.NaN], step);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = make();
    b.load(saved);
    expect(b.totals()).toEqual(a.totals());
    expect(b.totals()).toMatchObject({ steps: 6, nonFinite: 6, lastStep: 5 });
    const next = [1, 2, 3, 4];
    expect(b.weigh(next, 6)).toEqual(a.weigh(next, 6));
    expect(b.state()).toEqual(a.state());

    const other = new Reweighter({ strategy: 'linupper', schedule: 0.4 });
    expect(() => other.load(saved)).toThrow(/checkpoint strategy "extremes" differs/);
    const otherSchedule = new Reweighter({ strategy: 'extremes', schedule: 0.4 });
    expect(() => otherSchedule.load(saved)).toThrow(/checkpoint schedule/);
    expect(() => make().load({ ...saved, steps: -1 })).toThrow(/steps = -1/);
    expect(() => make().load({ kind: 'other' } as never)).toThrow(
      /checkpoint kind "other" differs .*: pass what Reweighter.state\(\) returned/,
    );
  });

  it('custom strategies round-trip as "custom"', () => {
    const rw = new Reweighter({ strategy: (x) => x * x, schedule: 1 });
    rw.weigh([1, 2, 3], 0);
    const copy = new Reweighter({ strategy: (x) => x * x, schedule: 1 });
    copy.load(rw.state());
    expect(copy.state().strategy).toBe('custom');
  });

  it('rejects a bad strategy or schedule at construction', () => {
    expect(() => new Reweighter({ strategy: 'mid' as 'quadratic', schedule: 1 })).toThrow(
      /use 'quadratic'/,
    );
    expect(() => new Reweighter({ strategy: 'linupper', schedule: -1 })).toThrow(/r = -1/);
    expect(() => new Reweighter({ strategy: 'linupper', schedule: 1, delta: 0 })).toThrow(
      /delta = 0/,
    );
    expect(
      () => new Reweighter({ strategy: 'linupper', schedule: 1, nonFinite: 'skip' as 'zero' }),
    ).toThrow(/nonFinite = "skip"/);
  });
});

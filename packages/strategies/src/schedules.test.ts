import { describe, expect, it } from 'vitest';
import {
  constantTemperature,
  cosineTemperature,
  exponentialTemperature,
  linearTemperature,
  plainMeanWarmup,
  stepTemperature,
  temperatureSchedule,
} from './schedules.js';

describe('temperature schedules', () => {
  it('constant', () => {
    const s = constantTemperature(0.4);
    expect([s(0), s(1), s(1e6)]).toEqual([0.4, 0.4, 0.4]);
  });

  it('step: the Llama reference (r = 100 for 2000 steps, then r)', () => {
    const s = stepTemperature({ r0: 100, r: 0.4, warmupSteps: 2000 });
    expect([s(0), s(1999), s(2000), s(5000)]).toEqual([100, 100, 0.4, 0.4]);
  });

  it('linear, cosine and exponential hit r0 at the start, r at the end, and stay there', () => {
    const opts = { r0: 10, r: 0.5, startStep: 100, spanSteps: 400 };
    for (const make of [linearTemperature, cosineTemperature, exponentialTemperature]) {
      const s = make(opts);
      expect(s(0)).toBe(10);
      expect(s(100)).toBe(10);
      expect(s(500)).toBeCloseTo(0.5, 14);
      expect(s(10_000)).toBeCloseTo(0.5, 14);
      // Monotone non-increasing when annealing down.
      let prev = Infinity;
      for (let t = 0; t <= 600; t += 7) {
        expect(s(t)).toBeLessThanOrEqual(prev + 1e-15);
        prev = s(t);
      }
    }
  });

  it('midpoints: linear is the mean, cosine the mean, exponential the geometric mean', () => {
    const opts = { r0: 8, r: 0.5, spanSteps: 100 };
    expect(linearTemperature(opts)(50)).toBeCloseTo(4.25, 14);
    expect(cosineTemperature(opts)(50)).toBeCloseTo(4.25, 14);
    expect(exponentialTemperature(opts)(50)).toBeCloseTo(2, 14);
    // Cosine is flat at both ends: at a quarter it is above the linear value.
    expect(cosineTemperature(opts)(25)).toBeGreaterThan(linearTemperature(opts)(25));
    // The exponential anneal multiplies r by the same factor each step.
    const e = exponentialTemperature(opts);
    expect(e(11) / e(10)).toBeCloseTo(e(61) / e(60), 12);
  });

  it('plain mean warm-up: r = Infinity (uniform) for N steps, then the inner schedule', () => {
    const s = plainMeanWarmup(1000, constantTemperature(0.4));
    expect([s(0), s(999), s(1000), s(1001)]).toEqual([Infinity, Infinity, 0.4, 0.4]);
    const annealed = plainMeanWarmup(
      10,
      linearTemperature({ r0: 2, r: 1, startStep: 10, spanSteps: 10 }),
    );
    expect([annealed(9), annealed(10), annealed(15), annealed(20)]).toEqual([Infinity, 2, 1.5, 1]);
  });

  it('configs are plain JSON and rebuild the same function', () => {
    const schedules = [
      constantTemperature(0.4),
      stepTemperature({ r0: 100, r: 1, warmupSteps: 20 }),
      linearTemperature({ r0: 5, r: 1, spanSteps: 30, startStep: 3 }),
      cosineTemperature({ r0: 5, r: 1, spanSteps: 30 }),
      exponentialTemperature({ r0: 5, r: 0.2, spanSteps: 30 }),
      plainMeanWarmup(10, cosineTemperature({ r0: 5, r: 1, spanSteps: 30, startStep: 10 })),
    ];
    for (const s of schedules) {
      const copy = temperatureSchedule(JSON.parse(JSON.stringify(s.config)));
      expect(copy.config).toEqual(s.config);
      for (let t = 0; t < 60; t++) expect(copy(t)).toBe(s(t));
    }
  });

  it('rejects bad steps and parameters with a named error', () => {
    const s = constantTemperature(1);
    expect(() => s(-1)).toThrow(/step = -1/);
    expect(() => s(Number.NaN)).toThrow(/step = NaN/);
    expect(() => constantTemperature(-0.4)).toThrow(/r = -0.4/);
    expect(() => stepTemperature({ r0: 0, r: 1, warmupSteps: 5 })).toThrow(/r0 = 0/);
    expect(() => linearTemperature({ r0: 2, r: 1, spanSteps: 0 })).toThrow(/spanSteps = 0/);
    expect(() => exponentialTemperature({ r0: Infinity, r: 1, spanSteps: 5 })).toThrow(
      /r0 = Infinity is not a valid temperature: use a number > 0, finite in an anneal/,
    );
    expect(() => temperatureSchedule({ kind: 'warp' } as never)).toThrow(
      /"warp" is unknown: use one of constant, step, linear, cosine, exponential, plain-mean-warmup/,
    );
    expect(() => temperatureSchedule({ kind: 'toString' } as never)).toThrow(/is unknown/);
  });

  it('configs keep their JSON form (Reweighter.load compares checkpoints by it)', () => {
    // Key order included: checkpoints written before must still load.
    expect(JSON.stringify(constantTemperature(0.4).config)).toBe('{"kind":"constant","r":0.4}');
    expect(JSON.stringify(stepTemperature({ warmupSteps: 5, r: 1, r0: 9 }).config)).toBe(
      '{"kind":"step","r0":9,"r":1,"warmupSteps":5}',
    );
    expect(JSON.stringify(cosineTemperature({ spanSteps: 3, r: 1, r0: 2 }).config)).toBe(
      '{"kind":"cosine","r0":2,"r":1,"startStep":0,"spanSteps":3}',
    );
    expect(JSON.stringify(plainMeanWarmup(7, constantTemperature(1)).config)).toBe(
      '{"kind":"plain-mean-warmup","warmupSteps":7,"after":{"kind":"constant","r":1}}',
    );
  });
});

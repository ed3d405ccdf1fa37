import { describe, expect, it } from 'vitest';
import { gpt2PaperLrSchedule, lrSchedule } from './lr-schedule.js';
import { TrainerError } from './trainer-error.js';

// Expected values are worked out by hand from the formulas in the file comment.
describe('lrSchedule', () => {
  it('follows the GPT-2 recipe: warm-up to 5e-4 over 500 steps, cosine to 1e-4', () => {
    const lr = gpt2PaperLrSchedule(20_000);
    expect(lr(0)).toBeCloseTo(5e-4 / 500, 15); // 1e-6
    expect(lr(249)).toBeCloseTo(2.5e-4, 15); // 5e-4 * 250 / 500
    expect(lr(499)).toBeCloseTo(5e-4, 15);
    expect(lr(500)).toBeCloseTo(5e-4, 15); // progress 0: cos 0 = 1
    // halfway through the decay (step 500 + 19500 / 2 = 10250): coeff 0.5 -> 3e-4
    expect(lr(10_250)).toBeCloseTo(3e-4, 15);
    // a quarter in (step 500 + 4875): coeff (1 + cos(pi/4)) / 2 = 0.853553390593
    expect(lr(5_375)).toBeCloseTo(1e-4 + 0.8535533905932737 * 4e-4, 15);
    expect(lr(20_000)).toBe(1e-4);
    expect(lr(30_000)).toBe(1e-4);
  });

  it('decays linearly', () => {
    const lr = lrSchedule({ kind: 'linear', peakLr: 1, endLr: 0, warmupSteps: 2, totalSteps: 12 });
    expect([0, 1, 2, 7, 11, 12, 13].map(lr)).toEqual([0.5, 1, 1, 0.5, 0.09999999999999998, 0, 0]);
  });

  it('holds a constant rate, with an optional warm-up', () => {
    expect(lrSchedule({ kind: 'constant', lr: 3e-4 })(0)).toBe(3e-4);
    const warm = lrSchedule({ kind: 'constant', lr: 4, warmupSteps: 4 });
    expect([0, 1, 2, 3, 4, 100].map(warm)).toEqual([1, 2, 3, 4, 4, 4]);
  });

  it('handles warm-up equal to the run length and no warm-up', () => {
    const all = lrSchedule({
      kind: 'cosine',
      peakLr: 1,
      endLr: 0.1,
      warmupSteps: 4,
      totalSteps: 4,
    });
    expect([0, 3, 4].map(all)).toEqual([0.25, 1, 0.1]);
    const none = lrSchedule({ kind: 'cosine', peakLr: 1, endLr: 0, warmupSteps: 0, totalSteps: 2 });
    expect(none(0)).toBe(1);
    expect(none(1)).toBeCloseTo(0.5, 15);
  });

  it('keeps its config so a checkpoint can rebuild it', () => {
    const lr = gpt2PaperLrSchedule(1000);
    const again = lrSchedule(JSON.parse(JSON.stringify(lr.config)));
    for (const s of [0, 10, 499, 500, 777, 999, 1000]) expect(again(s)).toBe(lr(s));
  });

  it('names the bad field and the fix', () => {
    const cases: [unknown, RegExp][] = [
      [{ kind: 'cosine', peakLr: -1, endLr: 0, warmupSteps: 0, totalSteps: 1 }, /peakLr = -1/],
      [
        { kind: 'cosine', peakLr: 1, endLr: 2, warmupSteps: 0, totalSteps: 1 },
        /endLr must be <= peakLr/,
      ],
      [{ kind: 'linear', peakLr: 1, endLr: 0, warmupSteps: 5, totalSteps: 2 }, /totalSteps = 2/],
      [
        { kind: 'linear', peakLr: 1, endLr: 0, warmupSteps: 1.5, totalSteps: 2 },
        /warmupSteps = 1.5/,
      ],
      [{ kind: 'step', lr: 1 }, /kind = "step".*\nHINT: use one of constant, cosine, linear/],
    ];
    for (const [config, message] of cases) {
      expect(() => lrSchedule(config as never)).toThrow(message);
    }
    const lr = lrSchedule({ kind: 'constant', lr: 1 });
    expect(() => lr(-1)).toThrow(TrainerError);
    expect(() => lr(0.5)).toThrow(/step = 0.5/);
  });
});

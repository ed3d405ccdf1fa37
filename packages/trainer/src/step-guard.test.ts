import { describe, expect, it } from 'vitest';
import { StepGuard } from './step-guard.js';

describe('StepGuard', () => {
  it('skips non-finite losses and gradients, and stops after K in a row', () => {
    const g = new StepGuard({ maxConsecutiveBad: 3 });
    expect(g.observe(1, 2.5, 1).action).toBe('update');
    expect(g.observe(2, Number.NaN, 1)).toMatchObject({
      action: 'skip',
      reason: 'non-finite-loss',
      consecutiveBad: 1,
    });
    expect(g.observe(3, 2.4, Number.POSITIVE_INFINITY)).toMatchObject({
      action: 'skip',
      reason: 'non-finite-grad',
      consecutiveBad: 2,
    });
    expect(g.observe(4, 2.3, 1).action).toBe('update'); // a good step resets the count
    g.observe(5, Number.NaN);
    g.observe(6, Number.NaN);
    const v = g.observe(7, Number.NEGATIVE_INFINITY, 0.5);
    expect(v.action).toBe('stop');
    if (v.action !== 'stop') throw new Error('unreachable');
    expect(v.error.code).toBe('too-many-bad-steps');
    expect(v.error.message).toMatch(
      /Training stopped at step 7: 3 updates in a row were skipped; at this step the loss was NaN or infinite \(loss -Infinity/,
    );
    expect(v.error.message).toMatch(
      /\nHINT: resume from the last checkpoint with a lower learning rate/,
    );
    expect(g.totalSkipped).toBe(5);
  });

  it('flags a loss spike by z-score once the window is full, as llm.c does', () => {
    const g = new StepGuard({ lossZThreshold: 3, window: 4 });
    // window [1, 2, 3, 4]: mean 2.5, population std sqrt(1.25) = 1.1180
    for (const [i, l] of [1, 2, 3, 4].entries())
      expect(g.observe(i + 1, l)).toMatchObject({ action: 'update', lossZ: Number.NaN });
    const ok = g.observe(5, 5); // z = 2.5 / 1.118 = 2.236
    expect(ok.action).toBe('update');
    if (ok.action === 'update') expect(ok.lossZ).toBeCloseTo(2.5 / Math.sqrt(1.25), 12);
    // window now [2, 3, 4, 5]: mean 3.5, std 1.118; loss 7.5 gives z = 4 / 1.118 = 3.578
    const spike = g.observe(6, 7.5);
    expect(spike).toMatchObject({ action: 'skip', reason: 'loss-spike' });
    if (spike.action === 'skip') expect(spike.lossZ).toBeCloseTo(4 / Math.sqrt(1.25), 12);
  });

  it('flags a gradient-norm spike and leaves the check off by default', () => {
    const off = new StepGuard({ window: 2 });
    off.observe(1, 1, 1);
    off.observe(2, 1, 1.1);
    expect(off.observe(3, 1, 1000).action).toBe('update');
    const on = new StepGuard({ window: 2, gradNormZThreshold: 5 });
    on.observe(1, 1, 1);
    on.observe(2, 1, 1.1);
    expect(on.observe(3, 1, 1000)).toMatchObject({ action: 'skip', reason: 'grad-spike' });
  });

  it('resumes from state() exactly', () => {
    const a = new StepGuard({ lossZThreshold: 2, window: 3, maxConsecutiveBad: 4 });
    const losses = [3, 2.9, 2.95, 2.8, 9, Number.NaN, 2.7];
    for (const [i, l] of losses.slice(0, 5).entries()) a.observe(i + 1, l, 1);
    const b = new StepGuard({ lossZThreshold: 2, window: 3, maxConsecutiveBad: 4 });
    b.load(JSON.parse(JSON.stringify(a.state())));
    for (const [i, l] of losses.slice(5).entries())
      expect(b.observe(i + 6, l, 1)).toEqual(a.observe(i + 6, l, 1));
    expect(b.state()).toEqual(a.state());
    expect(() => b.load({} as never)).toThrow(/StepGuard.load/);
  });

  it('checks its options', () => {
    expect(() => new StepGuard({ maxConsecutiveBad: 0 })).toThrow(/maxConsecutiveBad = 0/);
    expect(() => new StepGuard({ lossZThreshold: -1 })).toThrow(
      /leave it out to turn the check off/,
    );
  });
});

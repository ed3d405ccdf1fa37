import { describe, expect, it } from 'vitest';
import { golden } from '../test/golden.js';
import { computeWeights } from './compute-weights.js';
import { perSampleLoss } from './per-sample-loss.js';

describe('perSampleLoss (golden per_sample_loss_from_logits)', () => {
  const g = golden.per_sample_loss_from_logits;
  const B = g.logits.length;
  const T = g.logits[0].length;
  const V = g.logits[0][0].length;

  it('matches the golden losses and active counts (logits 2x5x6, labels with -100)', () => {
    for (const Typed of [Float64Array, Float32Array]) {
      const { losses, numActive } = perSampleLoss(
        Typed.from(g.logits.flat(2)),
        Int32Array.from(g.labels.flat()),
        { batch: B, time: T, vocab: V, ignoreIndex: g.ignore_index },
      );
      expect(Array.from(numActive)).toEqual(g.num_active);
      for (let b = 0; b < B; b++) {
        expect(Math.abs(losses[b] - g.per_sample_loss[b])).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it('a sample with no active target gets loss 0 and, through active, weight 0', () => {
    const labels = [...g.labels[0], 0, -100, -100, -100, -100];
    const { losses, numActive } = perSampleLoss(g.logits.flat(2), labels, {
      batch: B,
      time: T,
      vocab: V,
    });
    expect(numActive[1]).toBe(0);
    expect(losses[1]).toBe(0);
    const w = computeWeights(losses, { strategy: 'linupper', r: 0.4, active: numActive });
    expect(Array.from(w)).toEqual([1, 0]);
  });

  it('rejects shape mismatches and labels outside the vocabulary', () => {
    expect(() => perSampleLoss([0, 0], [0], { batch: 1, time: 2, vocab: 2 })).toThrow(
      /expected B\*T\*V = 4/,
    );
    expect(() => perSampleLoss([0, 0, 0, 0], [0, 7], { batch: 1, time: 2, vocab: 2 })).toThrow(
      /labels\[0\]\[1\] = 7/,
    );
  });
});

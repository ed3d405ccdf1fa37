import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor, tidy } from '@lrw/tensor';
import { describe, expect, it } from 'vitest';
import { causalTargets, perSampleLoss } from './per-sample-loss.js';

const goldenPath = fileURLToPath(
  new URL('../../../../shared/golden/strategies.json', import.meta.url),
);
const hasGolden = existsSync(goldenPath);
if (!hasGolden) console.warn(`per-sample loss golden test skipped: ${goldenPath} not found`);

describe.skipIf(!hasGolden)('perSampleLoss against the golden case (spec section 1)', () => {
  it('matches per_sample_loss_from_logits (shifted labels, -100 ignored)', () => {
    const g = JSON.parse(readFileSync(goldenPath, 'utf8')).per_sample_loss_from_logits;
    const [B, T1] = [g.labels.length, g.labels[0].length];
    tidy(() => {
      const logits = tensor(g.logits).slice(1, 0, T1 - 1); // logits[:, :-1] (B, T, V)
      const targets = Int32Array.from(g.labels.flatMap((row: number[]) => row.slice(1)));
      const r = perSampleLoss(logits, targets);
      expect(r.counts).toEqual(g.num_active);
      expect(r.empty).toEqual([false, false]);
      const losses = r.losses.dataSync();
      for (let b = 0; b < B; b++) expect(losses[b]).toBeCloseTo(g.per_sample_loss[b], 6);
      const tok = r.tokenLosses.toArraySync() as number[][];
      const want = g.token_ce_after_shift as number[][];
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T1 - 1; t++) expect(tok[b][t]).toBeCloseTo(want[b][t], 6);
      }
    });
  });
});

describe('perSampleLoss', () => {
  it('gives 0 (not NaN) and a flag for a sample with no active target, with masks', () => {
    tidy(() => {
      const logits = tensor([
        [
          [1, 2, 3],
          [0, 0, 5],
        ],
        [
          [1, 1, 1],
          [2, 0, 0],
        ],
      ]).requireGrad();
      const targets = new Int32Array([2, 0, -100, 1]);
      const mask = new Float32Array([1, 0, 1, 0]);
      const r = perSampleLoss(logits, targets, mask);
      expect(r.counts).toEqual([1, 0]);
      expect(r.empty).toEqual([false, true]);
      const l = r.losses.dataSync();
      const ce = -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
      expect(l[0]).toBeCloseTo(ce, 6);
      expect(l[1]).toBe(0);
      r.losses.sum().backward();
      const grad = logits.grad!.dataSync();
      expect([...grad].every(Number.isFinite)).toBe(true);
      expect([...grad.slice(6)]).toEqual([0, 0, 0, 0, 0, 0]); // empty sample: no gradient
    });
  });

  it('accepts targets and mask as tensors (same result as host arrays)', () => {
    tidy(() => {
      const logits = tensor([
        [
          [0.5, -1, 2],
          [1, 1, 0],
        ],
      ]);
      const host = perSampleLoss(logits, new Int32Array([1, 2]), new Uint8Array([1, 1]));
      const dev = perSampleLoss(
        logits,
        tensor([[1, 2]], { dtype: 'int32' }),
        tensor([[1, 1]], { dtype: 'int32' }),
      );
      expect(dev.losses.dataSync()).toEqual(host.losses.dataSync());
      expect(dev.counts).toEqual([2]);
      expect(() => perSampleLoss(logits, tensor([[1, 2]]))).toThrow(/must be int32/);
    });
  });

  it('rejects logits of the wrong rank and targets of the wrong size', () => {
    tidy(() => {
      expect(() => perSampleLoss(tensor([1, 2]), new Int32Array([0]))).toThrow(/\(B, T, V\)/);
      expect(() => perSampleLoss(tensor([[[1, 2]]]), new Int32Array([0, 1]))).toThrow(/B\*T/);
    });
  });

  it('causalTargets shifts tokens and mask by one', () => {
    const r = causalTargets(new Int32Array([1, 2, 3, 4, 5, 6]), 2, [1, 1, 0, 1, 0, 1]);
    expect([...r.inputs]).toEqual([1, 2, 4, 5]);
    expect([...r.targets]).toEqual([2, 3, 5, 6]);
    expect([...r.mask!]).toEqual([1, 0, 0, 1]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  arange,
  concat,
  crossEntropy,
  gather,
  layerNorm,
  matmul,
  ones,
  randn,
  scaledDotProductAttention,
  scatterAdd,
  split,
  takeAlongLastAxis,
  tensor,
  tidy,
  where,
  zeros,
} from '../index.js';

describe('ops: bad input gives actionable errors', () => {
  it('names shapes, axes and the fix', () => {
    tidy(() => {
      const a = ones([2, 3]);
      expect(() => matmul(a, ones([2, 3]))).toThrow(
        /inner dimensions differ: \[2, 3\] x \[2, 3\] \(3 vs 2\); transpose/,
      );
      expect(() => matmul(ones([3]), a)).toThrow(/rank >= 2.*unsqueeze/);
      expect(() => a.sum(2)).toThrow(/axis 2 is out of range for a tensor of rank 2/);
      expect(() => a.reshape([4, -1])).toThrow(/cannot infer -1/);
      expect(() => a.permute([0, 0])).toThrow(/not a permutation/);
      expect(() => a.slice(1, 2, 5)).toThrow(/outside axis 1 of size 3/);
      expect(() => a.squeeze(0)).toThrow(/has size 2, not 1/);
      expect(() => concat([a, ones([2, 4])], 0)).toThrow(/does not match/);
      expect(() => split(a, 2, 1)).toThrow(/does not split into 2 equal parts/);
      expect(() => gather(ones([4, 2]), tensor([5], { dtype: 'int32' }))).toThrow(
        /index 5 at position 0 is outside the table's 4 rows/,
      );
      expect(() => gather(ones([4, 2]), tensor([1]))).toThrow(/indices must be int32/);
      expect(() => scatterAdd(ones([4, 2]), tensor([1], { dtype: 'int32' }), ones([2, 2]))).toThrow(
        /expected \[1, 2\]/,
      );
      expect(() => takeAlongLastAxis(a, tensor([0, 3], { dtype: 'int32' }))).toThrow(
        /index 3 at position 1 is outside 0..2/,
      );
      expect(() => crossEntropy(a, tensor([0], { dtype: 'int32' }))).toThrow(
        /must match logits \[2, 3\]/,
      );
      expect(() => layerNorm(a, ones([2]))).toThrow(/weight has shape \[2\]; expected \[3\]/);
      expect(() => a.backward()).toThrow(/does not require grad/);
      expect(() => arange(0, 1, 0)).toThrow(/non-zero step/);
    });
  });
});

describe('ops: semantics beyond the conformance cases', () => {
  it('where with numbers, int32 where, and relu gradient 0 at 0', () => {
    tidy(() => {
      const c = tensor([1, 0, 1]);
      expect(where(c, 5, -1).toArraySync()).toEqual([5, -1, 5]);
      const w = where(c, arange(3), 9);
      expect(w.dtype).toBe('int32');
      expect(w.toArraySync()).toEqual([0, 9, 2]);
      const x = tensor([-1, 0, 2]).requireGrad();
      x.relu().sum().backward();
      expect(x.grad!.toArraySync()).toEqual([0, 0, 1]);
      x.dispose();
    });
  });

  it('max gradient is shared among ties; maximum splits ties evenly', () => {
    tidy(() => {
      const x = tensor([3, 1, 3]).requireGrad();
      x.max().backward();
      expect(x.grad!.toArraySync()).toEqual([0.5, 0, 0.5]);
      const a = tensor([1, 2]).requireGrad();
      const b = tensor([1, 1]).requireGrad();
      a.maximum(b).sum().backward();
      expect(a.grad!.toArraySync()).toEqual([0.5, 1]);
      expect(b.grad!.toArraySync()).toEqual([0.5, 0]);
      for (const t of [x, a, b]) t.dispose();
    });
  });

  it('crossEntropy ignores tokens exactly (0 loss, 0 gradient) even with -inf logits', () => {
    tidy(() => {
      const logits = tensor([
        [0, Number.NEGATIVE_INFINITY, 1],
        [2, 1, 0],
      ]).requireGrad();
      const loss = crossEntropy(logits, tensor([1, 0], { dtype: 'int32' }), { ignoreIndex: 1 });
      const v = loss.toArraySync() as number[];
      expect(v[0]).toBe(0);
      expect(v[1]).toBeCloseTo(Math.log(Math.exp(2) + Math.exp(1) + 1) - 2, 5);
      loss.sum().backward();
      expect((logits.grad!.toArraySync() as number[][])[0]).toEqual([0, 0, 0]);
      logits.dispose();
    });
  });

  it('logsumexp of an all -inf row is -inf, not NaN; softmax rows sum to 1', () => {
    tidy(() => {
      expect(
        tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]).logsumexp().itemSync(),
      ).toBe(Number.NEGATIVE_INFINITY);
      const s = randn([3, 7], { seed: 2 }).softmax(-1).sum(-1).dataSync();
      for (const v of s) expect(v).toBeCloseTo(1, 6);
    });
  });

  it('assign broadcasts and casts; in-place ops on views of parameters are refused while recording', () => {
    tidy(() => {
      const p = zeros([2, 3]);
      p.assign(tensor([1, 2, 3]));
      expect(p.toArraySync()).toEqual([
        [1, 2, 3],
        [1, 2, 3],
      ]);
      p.assign(arange(3));
      expect(p.dtype).toBe('float32');
      p.mul_(2)
        .add_(1)
        .div_(tensor([1, 1, 2]));
      expect((p.toArraySync() as number[][])[0]).toEqual([1, 3, 2.5]);
      const q = ones([2]).requireGrad();
      const y = q.mul(2);
      expect(() => y.add_(1)).toThrow(/part of an autograd graph/);
      q.dispose();
    });
  });

  it('concat and split round-trip with gradients flowing to every part', () => {
    tidy(() => {
      const a = randn([2, 2], { seed: 1 }).requireGrad();
      const b = randn([2, 3], { seed: 2 }).requireGrad();
      const c = concat([a, b], 1);
      const [x, y] = split(c, [2, 3], 1);
      expect(Array.from(x.dataSync())).toEqual(Array.from(a.dataSync()));
      expect(Array.from(y.dataSync())).toEqual(Array.from(b.dataSync()));
      c.mul(arange(5).cast('float32')).sum().backward();
      expect(a.grad!.toArraySync()).toEqual([
        [0, 1],
        [0, 1],
      ]);
      expect(b.grad!.toArraySync()).toEqual([
        [2, 3, 4],
        [2, 3, 4],
      ]);
      a.dispose();
      b.dispose();
    });
  });

  it('attention broadcasts grouped key/value heads (GQA) without copies, matching expanded heads', () => {
    tidy(() => {
      // q (B=1, Hkv=2, rep=3, T=4, D=5); k, v (1, 2, 1, 4, 5): each kv head serves 3 query heads.
      const q = randn([1, 2, 3, 4, 5], { seed: 1 });
      const k = randn([1, 2, 1, 4, 5], { seed: 2 });
      const v = randn([1, 2, 1, 4, 5], { seed: 3 });
      const grouped = scaledDotProductAttention(q, k, v).dataSync();
      const full = scaledDotProductAttention(
        q,
        k.expand([1, 2, 3, 4, 5]).contiguous(),
        v.expand([1, 2, 3, 4, 5]).contiguous(),
      ).dataSync();
      expect(Array.from(grouped)).toEqual(Array.from(full));
    });
  });
});

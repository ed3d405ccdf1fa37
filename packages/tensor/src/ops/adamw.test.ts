import { describe, expect, it } from 'vitest';
import { assertNoLeaks, loadBackend, tensor, zeros } from '../index.js';
import { adamwStep } from './adamw.js';
import { adamwGolden } from './adamw.test-helpers.js';

describe.skipIf(!adamwGolden)('adamwStep against torch.optim.AdamW', () => {
  const golden = adamwGolden;
  for (const [backend, path] of [
    ['cpu', 'wasm'],
    ['cpu-reference', 'composed'],
  ] as const) {
    it(`${backend}: three steps match PyTorch (${path} path), without leaks`, async () => {
      await loadBackend(backend);
      const g = golden!;
      const p = tensor(g.p0, { backend });
      const m = zeros([g.p0.length], { backend });
      const v = zeros([g.p0.length], { backend });
      assertNoLeaks(() => {
        g.grads.forEach((gr, i) => {
          const grad = tensor(gr, { backend });
          expect(adamwStep(p, grad, m, v, { ...g.config, step: i + 1 })).toBe(path);
          grad.dispose();
        });
      });
      const maxDiff = (got: Float32Array, want: number[]) =>
        Math.max(...Array.from(got, (x, i) => Math.abs(x - want[i]!)));
      expect(maxDiff(p.dataSync() as Float32Array, g.p)).toBeLessThan(3e-7);
      expect(maxDiff(m.dataSync() as Float32Array, g.m)).toBeLessThan(1e-8);
      expect(maxDiff(v.dataSync() as Float32Array, g.v)).toBeLessThan(1e-9);
      for (const t of [p, m, v]) t.dispose();
    });
  }
});

describe('adamwStep', () => {
  it('takes the composed path for strided views and agrees with the wasm path', () => {
    const make = () => ({
      p: tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      g: tensor([
        [0.5, -1, 2],
        [0.1, 0.2, -0.3],
      ]),
      m: tensor([
        [0.1, 0, 0],
        [0, 0.2, 0],
      ]),
      v: tensor([
        [0.01, 0.02, 0],
        [0, 0.03, 0.04],
      ]),
    });
    const hp = { lr: 0.1, weightDecay: 0.1, step: 3 };
    const a = make();
    const b = make();
    expect(adamwStep(a.p, a.g, a.m, a.v, hp)).toBe('wasm');
    // Transposed views: the same elements, not contiguous.
    expect(adamwStep(b.p.mT, b.g.mT, b.m.mT, b.v.mT, hp)).toBe('composed');
    const pa = a.p.dataSync();
    const pb = b.p.dataSync();
    for (let i = 0; i < pa.length; i++) expect(pb[i]).toBeCloseTo(pa[i]!, 6);
    for (const t of [...Object.values(a), ...Object.values(b)]) t.dispose();
  });

  it('rejects mismatched tensors, bad hyper-parameters and parameters inside a graph', () => {
    const p = zeros([3]).requireGrad();
    const g = zeros([4]);
    const s = zeros([3]);
    expect(() => adamwStep(p, g, s, s, { lr: 1e-3, step: 1 })).toThrow(
      /grad is float32 \[4\].*expected float32 \[3\]/,
    );
    expect(() => adamwStep(p, s, s, s, { lr: 1e-3, step: 0 })).toThrow(/step = 0/);
    const inGraph = p.mul(2);
    expect(() => adamwStep(inGraph, s, s, s, { lr: 1e-3, step: 1 })).toThrow(/autograd graph/);
    for (const t of [p, g, s, inGraph]) t.dispose();
  });
});

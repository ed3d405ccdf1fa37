import { describe, expect, it } from 'vitest';
import { type Tensor, tensor, tidy } from './index.js';

// backward's onLeafGradReady: once per leaf, after its last gradient contribution.
describe('backward onLeafGradReady', () => {
  it('fires once per reached leaf with its final gradient, nearest-to-the-loss leaves first', () => {
    const x = tensor([1, 2, 3]).requireGrad(); // used three times, first and last in the graph
    const w = tensor([0.5, -1, 2]).requireGrad(); // used once, near the loss
    const b = tensor([0.25, 0.25, 0.25]).requireGrad(); // used once, early
    const unused = tensor([7, 7, 7]).requireGrad(); // never in the graph
    const names = new Map<Tensor, string>([
      [x, 'x'],
      [w, 'w'],
      [b, 'b'],
      [unused, 'unused'],
    ]);
    const loss = (): Tensor => {
      const h = x.mul(x).add(b); // x^2 + b
      const g = h.mul(x).exp().log(); // (x^2 + b) x, through two more nodes
      return g.add(x).mul(w).sum(); // sum(w ((x^2 + b) x + x))
    };
    const run = () => {
      const seen: { name: string; grad: number[] }[] = [];
      tidy(() =>
        loss().backward(undefined, {
          onLeafGradReady: (leaf) => {
            seen.push({ name: names.get(leaf)!, grad: leaf.grad!.toArraySync() as number[] });
          },
        }),
      );
      return seen;
    };
    const first = run();
    expect(first.map((s) => s.name)).toEqual(['w', 'b', 'x']);
    for (const s of first) {
      const leaf = [...names].find(([, n]) => n === s.name)![0];
      expect(s.grad).toEqual(leaf.grad!.toArraySync());
    }
    // independent reference: d/dx = w (3x^2 + b + 1), d/dw = x^3 + b x + x, d/db = w x
    const xs = [1, 2, 3];
    const ws = [0.5, -1, 2];
    const gx = xs.map((v, i) => ws[i]! * (3 * v * v + 0.25 + 1));
    xs.forEach((_, i) => {
      expect(first[2]!.grad[i]).toBeCloseTo(gx[i]!, 4);
      expect(first[0]!.grad[i]).toBeCloseTo(xs[i]! ** 3 + 0.25 * xs[i]! + xs[i]!, 4);
      expect(first[1]!.grad[i]).toBeCloseTo(ws[i]! * xs[i]!, 5);
    });
    expect(unused.grad).toBeNull();
    // a second backward accumulates: the hook sees the accumulated (final) value
    const second = run();
    expect(second.map((s) => s.name)).toEqual(['w', 'b', 'x']);
    expect(second[2]!.grad.map((v, i) => v / 2 - gx[i]!).every((d) => Math.abs(d) < 1e-4)).toBe(
      true,
    );
    expect(second[2]!.grad).toEqual(x.grad!.toArraySync());
    for (const t of names.keys()) t.dispose();
  });

  it('a leaf used twice by one op (x * x) fires once; a leaf root fires; no hook, no change', () => {
    const x = tensor([3]).requireGrad();
    let calls = 0;
    tidy(() =>
      x
        .mul(x)
        .sum()
        .backward(undefined, { onLeafGradReady: () => calls++ }),
    );
    expect(calls).toBe(1);
    expect(x.grad!.toArraySync()).toEqual([6]);
    const s = tensor([2]).requireGrad();
    let root = 0;
    s.backward(undefined, { onLeafGradReady: (l) => (root += l === s ? 1 : 100) });
    expect(root).toBe(1);
    s.dispose();
    x.zeroGrad();
    tidy(() => x.mul(x).sum().backward());
    expect(x.grad!.toArraySync()).toEqual([6]);
    x.dispose();
  });

  it('an error thrown by the hook stops backward and frees the graph', () => {
    const x = tensor([1, 2]).requireGrad();
    const w = tensor([3, 4]).requireGrad();
    const out = x.mul(w).sum();
    expect(() =>
      out.backward(undefined, {
        onLeafGradReady: () => {
          throw new Error('hook failed');
        },
      }),
    ).toThrow('hook failed');
    expect(() => out.backward()).toThrow(/already freed/);
    out.dispose();
    x.dispose();
    w.dispose();
  });
});

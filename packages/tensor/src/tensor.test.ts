import { describe, expect, it } from 'vitest';
import {
  arange,
  DisposedTensorError,
  enableGrad,
  isGradEnabled,
  keep,
  memory,
  noGrad,
  ones,
  packageName,
  randn,
  scalar,
  type Tensor,
  tensor,
  tidy,
  UnsupportedOpError,
  zeros,
} from './index.js';

const close = (a: number[] | number, b: number[] | number, tol = 1e-6) => {
  const x = ([] as number[]).concat(a as number[]).flat(Number.POSITIVE_INFINITY) as number[];
  const y = ([] as number[]).concat(b as number[]).flat(Number.POSITIVE_INFINITY) as number[];
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(y[i])));
  }
};

describe('Tensor basics', () => {
  it('is published as @lrw/tensor', () => {
    expect(packageName).toBe('@lrw/tensor');
  });

  it('creates tensors from nested arrays, typed arrays and constants', async () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(await t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from(await tensor(new Int32Array([7, 8])).data())).toEqual([7, 8]);
    expect(tensor(new Float32Array(6), { shape: [3, 2] }).shape).toEqual([3, 2]);
    expect(zeros([2]).toArraySync()).toEqual([0, 0]);
    expect(ones([1, 2], { dtype: 'int32' }).dataSync()).toBeInstanceOf(Int32Array);
    expect(arange(4).toArraySync()).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe('int32');
    expect(arange(0, 1, 0.25).toArraySync()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(await scalar(3).item()).toBe(3);
  });

  it('rejects ragged data, bad shapes and unsupported dtypes with clear errors', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/do not fill shape \[2, 2\]/);
    expect(() => zeros([2, -1])).toThrow(/non-negative integers/);
    const err = (() => {
      try {
        zeros([1], { dtype: 'float16' }); // half precision is storage only: no fill kernel
      } catch (e) {
        return e;
      }
    })();
    expect(UnsupportedOpError.isInstance(err)).toBe(true);
    expect((err as UnsupportedOpError).dtype).toBe('float16');
    expect((err as UnsupportedOpError).backend).toBe('cpu');
  });

  it('views share storage: reshape, transpose, slice, expand', () => {
    tidy(() => {
      const x = arange(6).reshape([2, 3]);
      const before = memory().buffers;
      const t = x.mT;
      expect(t.shape).toEqual([3, 2]);
      expect(t.isContiguous).toBe(false);
      expect(t.toArraySync()).toEqual([
        [0, 3],
        [1, 4],
        [2, 5],
      ]);
      const s = x.slice(1, 1, 3);
      expect(s.toArraySync()).toEqual([
        [1, 2],
        [4, 5],
      ]);
      const e = tensor([[1], [2]]).expand([2, 3]);
      expect(e.toArraySync()).toEqual([
        [1, 1, 1],
        [2, 2, 2],
      ]);
      expect(x.reshape([3, -1]).shape).toEqual([3, 2]);
      expect(x.unsqueeze(0).shape).toEqual([1, 2, 3]);
      expect(x.unsqueeze(-1).squeeze().shape).toEqual([2, 3]);
      // t and s are views: only e's source and its reshape allocate.
      expect(memory().buffers - before).toBe(1);
      expect(t.contiguous().isContiguous).toBe(true);
      expect(t.reshape([6]).toArraySync()).toEqual([0, 3, 1, 4, 2, 5]);
    });
  });

  it('broadcasts binary ops and mixes numbers and int32 sensibly', () => {
    tidy(() => {
      const a = tensor([[1], [2]]);
      const b = tensor([10, 20, 30]);
      expect(a.add(b).toArraySync()).toEqual([
        [11, 21, 31],
        [12, 22, 32],
      ]);
      expect(arange(3).mul(2).dtype).toBe('int32');
      expect(arange(3).mul(0.5).toArraySync()).toEqual([0, 0.5, 1]);
      expect(arange(3).add(tensor([0.5, 0.5, 0.5])).dtype).toBe('float32');
      expect(() => tensor([1, 2]).add(tensor([1, 2, 3]))).toThrow(/do not broadcast/);
    });
  });

  it('reads data asynchronously and item() needs one element', async () => {
    const t = tensor([1, 2]);
    await expect(t.item()).rejects.toThrow(/exactly one/);
    t.dispose();
  });
});

describe('autograd', () => {
  it('computes gradients of a small expression and accumulates across backward calls', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    const w = tensor([0.5, -1, 2]).requireGrad();
    tidy(() => x.mul(w).sum().backward());
    expect(x.grad!.toArraySync()).toEqual([0.5, -1, 2]);
    expect(w.grad!.toArraySync()).toEqual([1, 2, 3]);
    tidy(() => x.mul(w).sum().backward());
    expect(x.grad!.toArraySync()).toEqual([1, -2, 4]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    x.dispose();
    w.dispose();
  });

  it('handles a shared subexpression (fan-out) and broadcasting', () => {
    const x = tensor([[1, 2]]).requireGrad(); // (1, 2)
    tidy(() => {
      const y = x.expand([3, 2]); // (3, 2)
      y.mul(y).add(y).sum().backward(); // d/dx = 3 * (2x + 1)
    });
    expect(x.grad!.toArraySync()).toEqual([[9, 15]]);
    x.dispose();
  });

  it('matmul gradients use transposed views', () => {
    const a = randn([2, 3, 4], { seed: 1 }).requireGrad();
    const b = randn([4, 5], { seed: 2 }).requireGrad();
    tidy(() => a.matmul(b).sum().backward());
    // d/da sum(a b) = 1 b^T: every row equals the row sums of b.
    const rowSums = tidy(() => b.sum(1).toArraySync() as number[]);
    const ga = a.grad!.toArraySync() as number[][][];
    for (const m of ga) for (const row of m) close(row, rowSums, 1e-5);
    // d/db = sum over batch and rows of a.
    const colSums = tidy(() => a.sum([0, 1]).toArraySync() as number[]);
    const gb = b.grad!.toArraySync() as number[][];
    gb.forEach((row, k) => {
      for (const v of row) expect(v).toBeCloseTo(colSums[k], 4);
    });
    a.dispose();
    b.dispose();
  });

  it('does not record under noGrad and detach cuts the graph', () => {
    const x = tensor([1, 2]).requireGrad();
    tidy(() => {
      const y = noGrad(() => x.mul(2));
      expect(y.requiresGrad).toBe(false);
      const z = x.mul(2).detach();
      expect(z.requiresGrad).toBe(false);
      expect(() => z.sum().backward()).toThrow(/does not require grad/);
    });
    x.dispose();
  });

  it('refuses a second backward through a freed graph and non-scalar roots without a gradient', () => {
    const x = tensor([1, 2]).requireGrad();
    tidy(() => {
      const l = x.mul(3).sum();
      l.backward();
      expect(() => l.backward()).toThrow(/already freed/);
      expect(() => x.mul(2).backward()).toThrow(/pass a gradient/);
      x.mul(2).backward(tensor([1, 1]));
    });
    expect(x.grad!.toArraySync()).toEqual([5, 5]);
    x.dispose();
  });

  it('detects in-place changes to values saved for backward', () => {
    const w = tensor([1, 2]).requireGrad();
    const c = tensor([3, 4]);
    tidy(() => {
      const l = w.mul(c).sum();
      c.add_(1);
      expect(() => l.backward()).toThrow(/modified in place/);
    });
    expect(() => w.sub_(1)).toThrow(/noGrad/);
    noGrad(() => w.sub_(tensor([1, 1]), 0.5));
    expect(w.toArraySync()).toEqual([0.5, 1.5]);
    w.dispose();
    c.dispose();
  });
});

describe('memory', () => {
  it('tidy disposes intermediates, keeps results and kept tensors', () => {
    const before = memory();
    let kept: Tensor | undefined;
    const out = tidy(() => {
      const a = ones([4]);
      kept = keep(a.mul(2));
      return { sum: a.add(1).sum(), list: [a.mul(3)] };
    });
    expect(memory().tensors - before.tensors).toBe(3);
    expect(out.sum.itemSync()).toBe(8);
    out.sum.dispose();
    out.list[0].dispose();
    kept!.dispose();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().buffers).toBe(before.buffers);
  });

  it('tidy disposes everything when its function throws, and refuses async functions', () => {
    const before = memory();
    expect(() =>
      tidy(() => {
        ones([5]).mul(2);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory().tensors).toBe(before.tensors);
    expect(() => tidy(() => Promise.resolve(1))).toThrow(/returned a Promise/);
    const nested = tidy(() => {
      const inner = tidy(() => ones([2]).add(1));
      return inner.mul(3);
    });
    expect(nested.toArraySync()).toEqual([6, 6]);
    nested.dispose();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().buffers).toBe(before.buffers);
  });

  it('enableGrad records inside noGrad', () => {
    const x = ones([2]).requireGrad();
    noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const y = enableGrad(() => x.mul(2));
      expect(y.requiresGrad).toBe(true);
      y.dispose();
    });
    x.dispose();
  });

  it('throws DisposedTensorError on use after dispose, and `using` disposes', () => {
    const t = ones([2]);
    t.dispose();
    t.dispose(); // idempotent
    expect(() => t.add(1)).toThrow(DisposedTensorError);
    const before = memory().tensors;
    {
      using u = ones([3]);
      expect(u.size).toBe(3);
      expect(memory().tensors).toBe(before + 1);
    }
    expect(memory().tensors).toBe(before);
  });

  it('pools freed buffers for reuse', () => {
    const b0 = memory().backend;
    tidy(() => {
      ones([1000]);
    });
    const b1 = memory().backend;
    tidy(() => {
      ones([1000]);
    });
    const b2 = memory().backend;
    expect(b1.buffers).toBe(b0.buffers);
    expect(b2.pooledBytes).toBe(b1.pooledBytes);
  });

  it('frees saved values when a graph is dropped without backward', () => {
    const x = randn([8, 8], { seed: 3 }).requireGrad();
    const before = memory();
    const y = tidy(() => x.matmul(x).tanh().sum());
    expect(memory().buffers).toBeGreaterThan(before.buffers + 1); // saved values alive
    y.dispose();
    expect(memory().buffers).toBe(before.buffers);
    expect(memory().tensors).toBe(before.tensors);
    x.dispose();
  });
});

describe('host reads and writes without temporaries', () => {
  it('tensor() copies a typed array: later changes to the array do not reach the tensor', () => {
    const host = Float32Array.of(1, 2, 3);
    const t = tensor(host);
    host[0] = 9;
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3]);
    const ints = Int32Array.of(4, 5);
    const u = tensor(ints);
    ints[1] = 0;
    expect(Array.from(u.dataSync())).toEqual([4, 5]);
  });

  it('dataSyncInto fills the given array, for contiguous tensors and strided views', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const out = new Float32Array(6).fill(-1);
    expect(t.dataSyncInto(out)).toBe(out);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6]);
    const tr = t.transpose(0, 1); // a strided view: read in its row-major order
    expect(Array.from(tr.dataSyncInto(new Float32Array(6)))).toEqual(Array.from(tr.dataSync()));
    const row = t.slice(0, 1, 2); // offset view
    expect(Array.from(row.dataSyncInto(new Float32Array(3)))).toEqual([4, 5, 6]);
    const sub = new Float32Array(8).subarray(2, 5); // an array that is itself a view
    expect(Array.from(row.dataSyncInto(sub))).toEqual([4, 5, 6]);
    expect(Array.from(ones([2], { dtype: 'int32' }).dataSyncInto(new Int32Array(2)))).toEqual([
      1, 1,
    ]);
  });

  it('dataSyncInto and assignData refuse a wrong size or type, naming both', () => {
    const t = zeros([2, 2]);
    expect(() => t.dataSyncInto(new Float32Array(3))).toThrow(
      /dataSyncInto: out must be a Float32Array of 4 elements .* got Float32Array\(3\)/,
    );
    expect(() => t.assignData(new Int32Array(4) as unknown as Float32Array)).toThrow(
      /assignData: values must be a Float32Array of 4 elements .* got Int32Array\(4\)/,
    );
  });

  it('assignData writes in place, through offset and strided views, and bumps the version', () => {
    const t = zeros([2, 3]);
    const before = t.storage.version;
    t.assignData(Float32Array.of(1, 2, 3, 4, 5, 6));
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.storage.version).toBeGreaterThan(before);
    t.slice(0, 1, 2).assignData(Float32Array.of(7, 8, 9));
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 7, 8, 9]);
    // transposed [3, 2] view: values are in the view's row-major order
    t.transpose(0, 1).assignData(Float32Array.of(10, 40, 20, 50, 30, 60));
    expect(Array.from(t.dataSync())).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('assignData refuses a tensor that requires grad while grad is on (as assign does)', () => {
    const w = zeros([2], { requiresGrad: true });
    expect(() => w.assignData(Float32Array.of(1, 2))).toThrow(/noGrad/);
    noGrad(() => w.assignData(Float32Array.of(1, 2)));
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
  });
});

/**
 * The cuda backend's kernels on paths the small conformance cases do not reach, on the CPU
 * emulator of the CUDA driver, against the CPU backends (the reference): blockwise attention
 * over many tiles (causal and not, broadcast key/value heads, heads read in place from a fused
 * qkv, each head-size bucket, shared memory above 48 KiB), block-per-row reductions and
 * softmax, the multi-chunk scan of scatter-add (bit-identical to the CPU: same addition order),
 * Philox (uniform bit-identical, normal within float32 rounding), the chunked vocabulary head,
 * the two-stage norm weight gradients, cuBLAS operand layouts, TF32, AdamW, device errors and
 * memory accounting. The emulator runs the same CUDA C sources as host C++ (see setup.ts).
 */
import { describe, expect, it } from 'vitest';
import type { CudaBackend } from '../../src/cuda/backend.js';
import {
  adamwStep,
  assertNoLeaks,
  gather,
  getBackend,
  layerNorm,
  linearCrossEntropy,
  philoxFill,
  randn,
  rmsNorm,
  scaledDotProductAttention,
  scatterAdd,
  type Tensor,
  tensor,
  tidy,
  uniform,
} from '../../src/index.js';
import { emulatedCuda } from './setup.js';

const emu = await emulatedCuda();
const EMU = 'cuda-emulated';
const skip = emu.dir ? '' : ` (skipped: ${emu.reason})`;
const cuda = () => getBackend(EMU) as CudaBackend;

/** Random float32 data (seeded) of `shape`, as a plain array. */
function data(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  philoxFill(out, n, { seed, offset: 0, dist: 'normal', a: 0, b: 1 });
  return out;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!) / scale);
  return d;
}

/**
 * Runs `f` on both backends with the same inputs (requiring gradients) and a seeded upstream
 * gradient; returns the largest relative differences of the output and of each input gradient.
 */
async function compare(
  shapes: number[][],
  f: (xs: Tensor[]) => Tensor,
  reference = 'cpu',
): Promise<{ out: number; grads: number[] }> {
  const results: { out: Float32Array; grads: Float32Array[] }[] = [];
  for (const backend of [EMU, reference]) {
    const xs = shapes.map((s, i) =>
      tensor(data(s, 11 + i), { shape: s, backend, requiresGrad: true }),
    );
    const out = tidy(() => {
      const y = f(xs);
      const g = tensor(data(y.shape as number[], 99), { shape: y.shape, backend });
      y.backward(g);
      return y;
    });
    results.push({
      out: (await out.data()) as Float32Array,
      grads: await Promise.all(xs.map(async (x) => (await x.grad!.data()) as Float32Array)),
    });
    out.dispose();
    for (const x of xs) x.dispose();
  }
  const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
  return {
    out: maxRelDiff(a.out, b.out),
    grads: a.grads.map((g, i) => maxRelDiff(g, b.grads[i]!)),
  };
}

const counts = () => new Map(cuda().launchCounts);
const launched = (before: Map<string, number>, name: string) =>
  (cuda().launchCounts.get(name) ?? 0) - (before.get(name) ?? 0);

describe.skipIf(!emu.dir)(`cuda kernels on the emulator${skip}`, () => {
  it('attention over many tiles, causal and not, matches the CPU; no [T, S] tensor exists', async () => {
    for (const causal of [true, false]) {
      const before = counts();
      const r = await compare(
        [
          [2, 3, 70, 24],
          [2, 3, 45, 24],
          [2, 3, 45, 16],
        ],
        ([q, k, v]) => scaledDotProductAttention(q!, k!, v!, { causal, scale: 0.3 }),
      );
      expect(launched(before, 'lrw_attn_fwd_32')).toBe(1);
      expect(launched(before, 'lrw_attn_dkdv_32')).toBe(1);
      expect(launched(before, 'cublasSgemmStridedBatched')).toBe(0);
      expect(r.out).toBeLessThan(2e-6);
      for (const g of r.grads) expect(g).toBeLessThan(2e-5);
    }
  });

  it('attention with broadcast key/value heads and heads read in place from a fused qkv', async () => {
    const r = await compare(
      [
        [2, 4, 40, 32],
        [2, 1, 40, 32],
        [2, 1, 40, 32],
      ],
      ([q, k, v]) => scaledDotProductAttention(q!, k!, v!),
    );
    expect(r.out).toBeLessThan(2e-6);
    for (const g of r.grads) expect(g).toBeLessThan(2e-5);
    // [B, T, 3, H, D] -> q, k, v as [B, H, T, D] views with row stride 3 * H * D.
    const fused = await compare([[2, 33, 3, 2, 16]], ([x]) => {
      const qkv = x!.permute([2, 0, 3, 1, 4]);
      const [q, k, v] = [0, 1, 2].map((i) => qkv.slice(0, i, i + 1).squeeze(0));
      return scaledDotProductAttention(q!, k!, v!);
    });
    expect(fused.out).toBeLessThan(2e-6);
    expect(fused.grads[0]).toBeLessThan(2e-5);
  });

  it('attention head sizes 64 and 100 (bucket 128: shared memory above 48 KiB, opted in)', async () => {
    for (const [d, bucket] of [
      [64, 64],
      [100, 128],
    ] as const) {
      const before = counts();
      const r = await compare(
        [
          [1, 1, 67, d],
          [1, 1, 67, d],
          [1, 1, 67, d],
        ],
        ([q, k, v]) => scaledDotProductAttention(q!, k!, v!),
      );
      expect(launched(before, `lrw_attn_fwd_${bucket}`)).toBe(1);
      expect(r.out).toBeLessThan(2e-6);
      for (const g of r.grads) expect(g).toBeLessThan(5e-5);
    }
  });

  it('block-per-row softmax and reductions (rows of 1024 and more) match the CPU', async () => {
    const before = counts();
    const s = await compare([[3, 1500]], ([x]) => x!.mul(3).softmax(-1));
    expect(launched(before, 'lrw_softmax_fwd_b')).toBe(1);
    expect(s.out).toBeLessThan(1e-6);
    expect(s.grads[0]).toBeLessThan(1e-5);
    const r = await compare([[4, 3000]], ([x]) => x!.sum(1).add(x!.max(1)).add(x!.min(1)));
    expect(launched(before, 'lrw_reduce_b')).toBeGreaterThanOrEqual(3);
    expect(r.out).toBeLessThan(1e-6);
    const x = tensor([1, 5, 5, -1, Number.NaN, 2, 7, 7], { shape: [2, 4], backend: EMU });
    expect(Array.from(await x.argmax(1).data())).toEqual([1, 2]);
    expect(Array.from(await x.max(1).data())).toEqual([5, Number.NaN]);
    x.dispose();
  });

  it('scatter-add over a multi-chunk scan is bit-identical to the CPU (same addition order)', async () => {
    const V = 2500;
    const N = 5000;
    const idx = Int32Array.from(
      { length: N },
      (_, i) => ((i * 7919) % 1300) + (i % 3 === 0 ? 1200 : 0),
    );
    const src = data([N, 3], 5);
    const outs: Float32Array[] = [];
    for (const backend of [EMU, 'cpu-reference']) {
      const base = tensor(data([V, 3], 6), { shape: [V, 3], backend });
      const i = tensor(idx, { shape: [N], dtype: 'int32', backend });
      const s = tensor(src, { shape: [N, 3], backend });
      const y = scatterAdd(base, i, s);
      outs.push((await y.data()) as Float32Array);
      for (const t of [base, i, s, y]) t.dispose();
    }
    expect(Array.from(outs[0]!)).toEqual(Array.from(outs[1]!));
  });

  it('Philox: uniform is bit-identical to the CPU stream, normal agrees to float32 rounding', async () => {
    const n = 1001;
    const u = uniform([n], { seed: 2 ** 40 + 5, offset: 7, low: -2, high: 3, backend: EMU });
    const want = new Float32Array(n);
    philoxFill(want, n, { seed: 2 ** 40 + 5, offset: 7, dist: 'uniform', a: -2, b: 3 });
    expect(Array.from(await u.data())).toEqual(Array.from(want));
    const z = randn([n], { seed: 11, offset: 3, mean: 1, std: 2, backend: EMU });
    const zw = new Float32Array(n);
    philoxFill(zw, n, { seed: 11, offset: 3, dist: 'normal', a: 1, b: 2 });
    const got = await z.data();
    let same = 0;
    for (let i = 0; i < n; i++) if (got[i] === zw[i]) same++;
    expect(maxRelDiff(got, zw)).toBeLessThan(1e-6);
    expect(same).toBeGreaterThan(n * 0.99);
    u.dispose();
    z.dispose();
  });

  it('the vocabulary head in several chunks (with a mask) matches the CPU', async () => {
    const b = cuda();
    const saved = b.headChunkFloats;
    b.headChunkFloats = 37 * 6; // 6 rows of V = 37 per chunk: 9 chunks for 50 tokens
    try {
      const before = counts();
      const targets = Int32Array.from({ length: 50 }, (_, i) => (i * 13) % 37);
      const mask = Float32Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? 0 : 1));
      const r = await compare(
        [
          [5, 10, 8],
          [37, 8],
        ],
        ([x, w]) => {
          const t = tensor(targets, { shape: [5, 10], dtype: 'int32', backend: x!.backend.name });
          const m = tensor(mask, { shape: [5, 10], backend: x!.backend.name });
          const l = linearCrossEntropy(x!, w!, t, { mask: m });
          t.dispose();
          m.dispose();
          return l;
        },
      );
      expect(launched(before, 'lrw_ce_fwd_w')).toBe(9);
      expect(r.out).toBeLessThan(1e-6);
      for (const g of r.grads) expect(g).toBeLessThan(1e-5);
    } finally {
      b.headChunkFloats = saved;
    }
  });

  it('layerNorm / rmsNorm weight gradients over several row chunks match the CPU', async () => {
    const ln = await compare([[200, 40], [40], [40]], ([x, w, b]) => layerNorm(x!, w!, b!));
    expect(ln.out).toBeLessThan(1e-6);
    for (const g of ln.grads) expect(g).toBeLessThan(1e-5);
    const rn = await compare([[130, 1100], [1100]], ([x, w]) => rmsNorm(x!, w!));
    expect(rn.out).toBeLessThan(1e-6);
    for (const g of rn.grads) expect(g).toBeLessThan(1e-5);
  });

  it('matmul: transposed, broadcast-batch and copied operand layouts; K = 0; TF32 rounds', async () => {
    const t = await compare(
      [
        [3, 5, 7],
        [3, 9, 7],
      ],
      ([a, b]) => a!.matmul(b!.transpose()),
    );
    expect(t.out).toBeLessThan(1e-6);
    const bc = await compare(
      [
        [2, 1, 6, 4],
        [1, 3, 4, 5],
      ],
      ([a, b]) => a!.matmul(b!),
    );
    expect(bc.out).toBeLessThan(1e-6);
    for (const g of bc.grads) expect(g).toBeLessThan(1e-6);
    // Neither axis unit-stride: copied to contiguous first.
    const before = counts();
    const cp = await compare(
      [
        [4, 6, 2],
        [6, 3],
      ],
      ([a, b]) => a!.slice(2, 0, 1).squeeze(2).matmul(b!),
    );
    expect(launched(before, 'lrw_copy')).toBeGreaterThan(0);
    expect(cp.out).toBeLessThan(1e-6);
    for (const g of cp.grads) expect(g).toBeLessThan(1e-6);
    const z = tidy(() =>
      tensor(new Float32Array(0), { shape: [3, 0], backend: EMU }).matmul(
        tensor(new Float32Array(0), { shape: [0, 2], backend: EMU }),
      ),
    );
    expect(Array.from(await z.data())).toEqual([0, 0, 0, 0, 0, 0]);
    z.dispose();
    const b = cuda();
    const a = tensor(data([16, 32], 3), { shape: [16, 32], backend: EMU });
    const fp32 = a.matmul(a.transpose());
    b.setTf32(true);
    const tf32 = a.matmul(a.transpose());
    b.setTf32(false);
    const d = maxRelDiff(await tf32.data(), await fp32.data());
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(2e-3);
    for (const x of [a, fp32, tf32]) x.dispose();
  });

  it('AdamW is one launch and matches the CPU path', async () => {
    const out: Float32Array[] = [];
    for (const backend of [EMU, 'cpu']) {
      const [p, g, m, v] = [1, 2, 3, 4].map((s) =>
        tensor(data([300], s).map(Math.abs), { shape: [300], backend }),
      );
      const before = counts();
      for (let step = 1; step <= 3; step++)
        adamwStep(p!, g!, m!, v!, { lr: 1e-2, step, weightDecay: 0.1 });
      if (backend === EMU) expect(launched(before, 'lrw_adamw')).toBe(3);
      out.push((await p!.data()) as Float32Array);
      for (const t of [p, g, m, v]) t!.dispose();
    }
    expect(maxRelDiff(out[0]!, out[1]!)).toBeLessThan(1e-6);
  });

  it('an out-of-range index is reported by the next read, and the backend goes on', async () => {
    const table = tensor([1, 2, 3, 4], { shape: [2, 2], backend: EMU });
    const idx = tensor([0, 5], { shape: [2], dtype: 'int32', backend: EMU });
    const y = gather(table, idx);
    await expect(y.data()).rejects.toThrow(
      /gather: an index is outside the table rows \(value 5 at position 1\)/,
    );
    const ok = table.add(1);
    expect(Array.from(await ok.data())).toEqual([2, 3, 4, 5]);
    for (const t of [table, idx, y, ok]) t.dispose();
  });

  it('results are bit-identical when blocks and threads run in reverse order (no order-dependent races)', async () => {
    const run = async () => {
      const out: number[] = [];
      for (const [shapes, f] of [
        [
          [
            [2, 2, 70, 24],
            [2, 2, 70, 24],
            [2, 2, 70, 24],
          ],
          ([q, k, v]: Tensor[]) => scaledDotProductAttention(q!, k!, v!),
        ],
        [[[3, 1500]], ([x]: Tensor[]) => x!.softmax(-1)],
        [[[200, 40], [40], [40]], ([x, w, b]: Tensor[]) => layerNorm(x!, w!, b!)],
      ] as const) {
        const xs = shapes.map((s, i) =>
          tensor(data([...s], 30 + i), { shape: s, backend: EMU, requiresGrad: true }),
        );
        const y = tidy(() => {
          const r = (f as (xs: Tensor[]) => Tensor)(xs);
          r.backward(tensor(data([...r.shape], 31), { shape: r.shape, backend: EMU }));
          return r;
        });
        out.push(...(await y.data()));
        for (const x of xs) out.push(...(await x.grad!.data()));
        for (const t of [y, ...xs]) t.dispose();
      }
      const idx = tensor(
        Int32Array.from({ length: 3000 }, (_, i) => (i * 31) % 1100),
        { shape: [3000], dtype: 'int32', backend: EMU },
      );
      const base = tensor(new Float32Array(1100 * 2), { shape: [1100, 2], backend: EMU });
      const src = tensor(data([3000, 2], 32), { shape: [3000, 2], backend: EMU });
      const s = scatterAdd(base, idx, src);
      out.push(...(await s.data()));
      for (const t of [idx, base, src, s]) t.dispose();
      return out;
    };
    const forward = await run();
    process.env.LRW_CUDA_EMU_REVERSE = '1';
    try {
      const reverse = await run();
      expect(reverse.length).toBe(forward.length);
      expect(reverse.every((v, i) => Object.is(v, forward[i]))).toBe(true);
    } finally {
      delete process.env.LRW_CUDA_EMU_REVERSE;
    }
  });

  it('memory(): exact live counts, freed blocks pooled by size class and reused', async () => {
    const b = cuda();
    await assertNoLeaks(async () => {
      const m0 = b.memory();
      const x = tensor(new Float32Array(1000), { shape: [1000], backend: EMU });
      const m1 = b.memory();
      expect(m1.buffers).toBe(m0.buffers + 1);
      expect(m1.bytes - m0.bytes).toBe(4096);
      x.dispose();
      const m2 = b.memory();
      expect(m2.buffers).toBe(m0.buffers);
      expect(m2.pooledBytes).toBeGreaterThanOrEqual(4096);
      const y = tensor(new Float32Array(1000), { shape: [1000], backend: EMU });
      expect(b.memory().pooledBytes).toBe(m2.pooledBytes - 4096);
      y.dispose();
    });
  });

  it('large writes (from JS memory) and many small ones (through the pinned ring) arrive intact', async () => {
    const big = data([400_000], 8); // 1.6 MB: above the ring's inline limit
    const t = tensor(big, { shape: [400_000], backend: EMU });
    expect(maxRelDiff(await t.data(), big)).toBe(0);
    t.dispose();
    const small: Tensor[] = [];
    for (let i = 0; i < 700; i++)
      small.push(tensor(new Float32Array(4096).fill(i), { shape: [4096], backend: EMU })); // 11 MB through an 8 MiB ring
    for (const i of [0, 350, 699]) expect((await small[i]!.data())[4095]).toBe(i);
    for (const s of small) s.dispose();
  });
});

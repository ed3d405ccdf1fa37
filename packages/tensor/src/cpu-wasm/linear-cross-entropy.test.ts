import { describe, expect, it } from 'vitest';
import {
  assertNoLeaks,
  getBackend,
  linearCrossEntropy,
  loadBackend,
  memory,
  randn,
  registerBackend,
  type Tensor,
  tensor,
  tidy,
} from '../index.js';
import { createFastCpuBackend, wasmKernelsOf } from './fast-backend.js';
import { linearCrossEntropyRoutine } from './linear-cross-entropy.js';

// The fused routine against the composition on the reference backend (forward and both
// gradients), with chunks of 3 tokens so chunk edges, ignored tokens and the mask all occur.
// '-keep': forward's [N, V] logits are kept and become dlogits in place (keepLogitsBytes;
// '-keep-heap' by the default budget); the others (keepLogitsBytes 0) recompute them chunk by
// chunk in backward. '-vocab': blocks of 4
// vocabulary columns over all 10 tokens (the last block 1 column wide); '-grid': blocks of 8
// columns by 3 tokens (log-sum-exps combined across blocks, dW accumulated across tokens).
for (const [name, storage, keepLogitsBytes, chunkFloats, minChunkColumns] of [
  ['cpu-lce-chunks', 'array-buffer', 0, 3 * 37, undefined],
  ['cpu-lce-chunks-heap', 'wasm-heap', 0, 3 * 37, undefined],
  ['cpu-lce-chunks-keep', 'array-buffer', 2 ** 20, 3 * 37, undefined],
  ['cpu-lce-chunks-keep-heap', 'wasm-heap', undefined, 3 * 37, undefined],
  ['cpu-lce-chunks-vocab', 'array-buffer', 0, 40, 4],
  ['cpu-lce-chunks-grid', 'wasm-heap', 0, 24, 8],
] as const) {
  registerBackend(name, () => {
    const mm = wasmKernelsOf(getBackend('cpu'))!;
    return createFastCpuBackend({
      name,
      storage,
      blas: 'off',
      wasmKernels: mm,
      routines: {
        linearCrossEntropy: linearCrossEntropyRoutine(mm, {
          chunkFloats,
          minChunkColumns,
          keepLogitsBytes,
        }),
      },
    });
  });
}

function run(backend: string, withMask: boolean) {
  return tidy(() => {
    const x = randn([2, 5, 8], { seed: 1, backend }).requireGrad(); // N = 10 tokens, C = 8
    const w = randn([37, 8], { seed: 2, backend }).requireGrad(); // V = 37
    const targets = tensor([3, 36, -100, 0, 7, 7, 12, -100, 1, 30], {
      dtype: 'int32',
      shape: [2, 5],
      backend,
    });
    const mask = tensor([1, 1, 1, 0, 1, 1, 1, 1, 0, 1], { shape: [2, 5], backend });
    // Through a transposed view of x, so the routine's contiguous copy is exercised too.
    const xt = x.transpose(0, 1).contiguous().transpose(0, 1);
    const loss = linearCrossEntropy(xt, w, targets, withMask ? { mask } : {});
    const weights = randn([2, 5], { seed: 3, backend });
    loss.mul(weights).sum().backward();
    const out = {
      loss: loss.dataSync(),
      dx: x.grad!.dataSync(),
      dw: w.grad!.dataSync(),
    };
    for (const t of [x, w] as Tensor[]) t.dispose();
    return out;
  });
}

describe('fused linearCrossEntropy routine', () => {
  it('keeps the logits up to 256 MiB by default, and only when a gradient is wanted', async () => {
    await loadBackend('cpu-lce-chunks-keep-heap');
    const held = (requireGrad: boolean, be: string) =>
      tidy(() => {
        const x = randn([10, 8], { seed: 1, backend: be });
        const w = randn([37, 8], { seed: 2, backend: be });
        if (requireGrad) x.requireGrad();
        const t = tensor([3, 36, 1, 0, 7, 7, 12, 5, 1, 30], { dtype: 'int32', backend: be });
        const before = memory().bytes;
        linearCrossEntropy(x, w, t);
        return memory().bytes - before;
      });
    const logits = 10 * 37 * 4;
    expect(held(true, 'cpu-lce-chunks-keep-heap')).toBeGreaterThanOrEqual(logits);
    expect(held(false, 'cpu-lce-chunks-keep-heap')).toBeLessThan(logits);
    await loadBackend('cpu-lce-chunks-heap');
    expect(held(true, 'cpu-lce-chunks-heap')).toBeLessThan(logits);
  });

  for (const [be, withMask] of [
    ['cpu-lce-chunks', false],
    ['cpu-lce-chunks', true],
    ['cpu-lce-chunks-heap', true],
    ['cpu-lce-chunks-keep', true],
    ['cpu-lce-chunks-keep', false],
    ['cpu-lce-chunks-keep-heap', true],
    ['cpu-lce-chunks-vocab', true],
    ['cpu-lce-chunks-vocab', false],
    ['cpu-lce-chunks-grid', true],
  ] as const) {
    it(`${be}: matches the composition (forward, dx, dW)${withMask ? ' with a mask' : ''}, leak-free`, async () => {
      await loadBackend(be);
      const want = run('cpu-reference', withMask);
      const got = await assertNoLeaks(() => run(be, withMask));
      for (const key of ['loss', 'dx', 'dw'] as const) {
        const a = got[key];
        const b = want[key];
        for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
      }
      expect(got.loss[2]).toBe(0);
      if (withMask) expect(got.loss[3]).toBe(0);
    });
  }

  it('names an out-of-range target', async () => {
    await loadBackend('cpu-lce-chunks');
    const x = randn([2, 4], { seed: 1, backend: 'cpu-lce-chunks' });
    const w = randn([5, 4], { seed: 2, backend: 'cpu-lce-chunks' });
    const t = tensor([1, 9], { dtype: 'int32', backend: 'cpu-lce-chunks' });
    expect(() => linearCrossEntropy(x, w, t)).toThrow(/target 9 at token 1.*\[0, 5\)/);
    for (const a of [x, w, t]) a.dispose();
  });
});

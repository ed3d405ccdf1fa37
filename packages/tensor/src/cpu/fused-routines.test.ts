import { describe, expect, it } from 'vitest';
import {
  assertNoLeaks,
  gelu,
  layerNorm,
  randn,
  scaledDotProductAttention,
  type Tensor,
  tidy,
} from '../index.js';

// The fused routines of the default 'cpu' backend against the compositions on 'cpu-reference'
// on transformer-like shapes (the conformance suite covers small ones with finite differences):
// forward values and every input gradient, for a random upstream gradient.
type Build = (backend: string) => { inputs: Tensor[]; out: Tensor };

async function compare(build: Build, tol = 2e-4): Promise<void> {
  const run = (backend: string) =>
    tidy(() => {
      const { inputs, out } = build(backend);
      const up = randn(out.shape, { seed: 99, backend });
      out.mul(up).sum().backward();
      const res = [out.dataSync(), ...inputs.map((t) => t.grad!.dataSync())];
      for (const t of inputs) t.dispose();
      return res;
    });
  const want = run('cpu-reference');
  const got = await assertNoLeaks(() => run('cpu'));
  want.forEach((w, n) => {
    let worst = 0;
    for (let i = 0; i < w.length; i++) {
      worst = Math.max(worst, Math.abs(got[n]![i]! - w[i]!) / (1e-3 + Math.abs(w[i]!)));
    }
    expect(worst, `output ${n}`).toBeLessThan(tol);
  });
}

const leaf = (shape: number[], seed: number, backend: string) =>
  randn(shape, { seed, backend }).requireGrad();

describe('fused CPU routines match the compositions', () => {
  it('gelu on [4, 16, 64], including large |x|', () =>
    compare((be) => {
      const x = leaf([4, 16, 64], 1, be);
      return { inputs: [x], out: gelu(x.mul(4)) };
      // The float32 composition itself is off by up to 4e-3 on this metric for large negative x
      // (1 + tanh cancels); the fast backend's wasm GELU avoids that and is checked against
      // float64 to 6e-7 relative in src/cpu-wasm/elementwise.test.ts.
    }, 6e-3));

  it('layerNorm with weight and bias, through a transposed view', () =>
    compare((be) => {
      const x = leaf([3, 8, 48], 2, be);
      const w = leaf([48], 3, be);
      const b = leaf([48], 4, be);
      return { inputs: [x, w, b], out: layerNorm(x.transpose(0, 1), w, b) };
    }));

  it('layerNorm without weight', () =>
    compare((be) => {
      const x = leaf([5, 32], 5, be);
      return { inputs: [x], out: layerNorm(x) };
    }));

  it('causal attention on heads sliced from one qkv tensor', () =>
    compare((be) => {
      const qkv = leaf([2, 24, 3 * 32], 6, be);
      const heads = (t: Tensor) => t.reshape([2, 24, 4, 8]).transpose(1, 2);
      const [q, k, v] = [0, 1, 2].map((i) => heads(qkv.slice(2, i * 32, (i + 1) * 32)));
      return { inputs: [qkv], out: scaledDotProductAttention(q!, k!, v!) };
      // Blockwise online softmax: another summation order, ~1e-6 absolute on near-zero entries.
    }, 1e-3));

  it('causal attention with T < S and keys/values broadcast over heads', () =>
    compare((be) => {
      const q = leaf([2, 3, 5, 8], 7, be);
      const k = leaf([2, 1, 9, 8], 8, be);
      const v = leaf([2, 1, 9, 6], 9, be);
      return { inputs: [q, k, v], out: scaledDotProductAttention(q, k, v, { scale: 0.3 }) };
    }));

  it('non-causal attention', () =>
    compare((be) => {
      const q = leaf([3, 7, 4], 10, be);
      const k = leaf([3, 11, 4], 11, be);
      const v = leaf([3, 11, 5], 12, be);
      return { inputs: [q, k, v], out: scaledDotProductAttention(q, k, v, { causal: false }) };
    }));
});

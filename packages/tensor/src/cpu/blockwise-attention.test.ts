import { describe, expect, it } from 'vitest';
import { loadBlasProvider } from '../cpu-blas/provider.js';
import type { AttentionTileKernels } from '../cpu-wasm/elementwise.js';
import { createFastCpuBackend, wasmKernelsOf } from '../cpu-wasm/fast-backend.js';
import {
  assertNoLeaks,
  getBackend,
  loadBackend,
  randn,
  registerBackend,
  scaledDotProductAttention,
  type Tensor,
  tidy,
} from '../index.js';
import {
  blockwiseAttentionRoutine,
  jsAttentionTiles,
  type TileGemm,
} from './blockwise-attention.js';

// The blockwise (online-softmax, masked tiles skipped) attention against the composition on
// 'cpu-reference' (scale, arange/le/where mask, softmax, two products; float32 kernels checked
// against float64 by the conformance suite): forward and the three input gradients for a
// random upstream gradient. Tiles of 8 make partial, diagonal and skipped tiles occur on small
// shapes; T = 256 with the default 64 runs the production tiling (4 x 4 tiles, 6 skipped).
const mm = () => wasmKernelsOf(getBackend('cpu'))!;
const blas = loadBlasProvider().provider;
const gemms: [string, () => TileGemm][] = [
  ['wasm gemm', mm],
  ...(blas ? ([['OpenBLAS', () => blas]] as [string, () => TileGemm][]) : []),
];
// The per-tile softmax steps: the TypeScript ones (Math.exp) and the fast backend's wasm SIMD ones.
const tileKernels: [string, () => AttentionTileKernels][] = [
  ['TS tiles', () => jsAttentionTiles],
  ['wasm tiles', mm],
];
if (!blas) console.log(`blockwise attention on OpenBLAS skipped: ${loadBlasProvider().reason}`);

function backendFor(
  gemmName: string,
  gemm: () => TileGemm,
  tiles: () => AttentionTileKernels,
  block?: number,
): string {
  const name = `cpu-blockwise-${gemmName.replace(/\W/g, '')}-${tiles === mm ? 'wasm' : 'ts'}-${block ?? 'default'}`;
  registerBackend(name, () =>
    createFastCpuBackend({
      name,
      wasmKernels: mm(),
      routines: {
        scaledDotProductAttention: blockwiseAttentionRoutine(gemm(), { block, tiles: tiles() }),
      },
    }),
  );
  return name;
}

type Build = (be: string) => { inputs: Tensor[]; out: Tensor };

async function compare(backend: string, build: Build, tol = 2e-5): Promise<void> {
  await loadBackend(backend);
  const run = (be: string) =>
    tidy(() => {
      const { inputs, out } = build(be);
      const up = randn(out.shape, { seed: 99, backend: be });
      out.mul(up).sum().backward();
      const res = [out.dataSync(), ...inputs.map((t) => t.grad!.dataSync())];
      for (const t of inputs) t.dispose();
      return res;
    });
  const want = run('cpu-reference');
  const got = await assertNoLeaks(() => run(backend));
  want.forEach((w, n) => {
    // Largest error relative to the largest value: ~1e-6 for both this routine and the
    // unblocked one (float32 products); a mishandled tile or mask is off by >1e-2.
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < w.length; i++) {
      worst = Math.max(worst, Math.abs(got[n]![i]! - w[i]!));
      scale = Math.max(scale, Math.abs(w[i]!));
    }
    expect(worst / scale, `output ${n}`).toBeLessThan(tol);
  });
}

const leaf = (shape: number[], seed: number, backend: string, std = 1) =>
  randn(shape, { seed, backend, std }).requireGrad();

for (const [gemmName, gemm] of gemms)
  for (const [tilesName, tiles] of tileKernels) {
    describe(`blockwise attention (${gemmName}, ${tilesName}) matches the composition`, () => {
      it('causal, T = 256 in 64-tiles (the default), heads sliced from one qkv', async () => {
        const be = backendFor(gemmName, gemm, tiles);
        await compare(be, (b) => {
          const qkv = leaf([2, 256, 3 * 32], 1, b, 2);
          const heads = (t: Tensor) => t.reshape([2, 256, 2, 16]).transpose(1, 2);
          const [q, k, v] = [0, 1, 2].map((i) => heads(qkv.slice(2, i * 32, (i + 1) * 32)));
          return { inputs: [qkv], out: scaledDotProductAttention(q!, k!, v!) };
        });
      });

      const small = backendFor(gemmName, gemm, tiles, 8);
      it('causal, T = S = 37 with 8-tiles (partial last tile), large scores', () =>
        compare(small, (b) => {
          const q = leaf([2, 37, 8], 2, b, 3);
          const k = leaf([2, 37, 8], 3, b, 3);
          const v = leaf([2, 37, 5], 4, b);
          return { inputs: [q, k, v], out: scaledDotProductAttention(q, k, v) };
        }));

      it('causal with T < S (keys beyond the last query are masked) and an explicit scale', () =>
        compare(small, (b) => {
          const q = leaf([3, 11, 4], 5, b);
          const k = leaf([3, 29, 4], 6, b);
          const v = leaf([3, 29, 6], 7, b);
          return { inputs: [q, k, v], out: scaledDotProductAttention(q, k, v, { scale: 0.7 }) };
        }));

      it('causal with T > S', () =>
        compare(small, (b) => {
          const q = leaf([2, 21, 4], 8, b);
          const k = leaf([2, 10, 4], 9, b);
          const v = leaf([2, 10, 3], 10, b);
          return { inputs: [q, k, v], out: scaledDotProductAttention(q, k, v) };
        }));

      it('non-causal, T != S, several batch axes', () =>
        compare(small, (b) => {
          const q = leaf([2, 2, 13, 4], 11, b);
          const k = leaf([2, 2, 19, 4], 12, b);
          const v = leaf([2, 2, 19, 7], 13, b);
          return {
            inputs: [q, k, v],
            out: scaledDotProductAttention(q, k, v, { causal: false }),
          };
        }));

      it('broadcast keys/values (grouped heads) share tiles; their gradients accumulate', () =>
        compare(small, (b) => {
          const q = leaf([2, 3, 5, 8], 14, b);
          const k = leaf([2, 1, 9, 8], 15, b);
          const v = leaf([2, 1, 9, 6], 16, b);
          return { inputs: [q, k, v], out: scaledDotProductAttention(q, k, v, { scale: 0.3 }) };
        }));

      it('broadcast query (one q for two k/v batches), several batch axes', () =>
        compare(small, (b) => {
          const q = leaf([1, 2, 1, 12, 4], 20, b);
          const k = leaf([3, 2, 2, 12, 4], 21, b);
          const v = leaf([3, 1, 2, 12, 5], 22, b);
          return { inputs: [q, k, v], out: scaledDotProductAttention(q, k, v) };
        }));

      it('only some inputs require gradients', async () => {
        await loadBackend(small);
        const run = (b: string) =>
          tidy(() => {
            const q = randn([1, 20, 4], { seed: 17, backend: b });
            const k = leaf([1, 20, 4], 18, b);
            const v = randn([1, 20, 4], { seed: 19, backend: b });
            scaledDotProductAttention(q, k, v).sum().backward();
            const g = k.grad!.dataSync();
            k.dispose();
            return g;
          });
        const want = run('cpu-reference');
        const got = run(small);
        for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
      });
    });
  }

describe('the fast backend registers the blockwise routine', () => {
  it('default cpu: scaledDotProductAttention is not the unblocked routine', async () => {
    const { cpuFusedRoutines } = await import('./fused-routines.js');
    const be = getBackend('cpu') as unknown as { routine(n: string): unknown };
    expect(be.routine('scaledDotProductAttention')).not.toBe(
      cpuFusedRoutines.scaledDotProductAttention,
    );
  });
});

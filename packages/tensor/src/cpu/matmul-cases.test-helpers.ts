// Products through a fast matmul kernel's view mapping (transpose flags, merged and unmerged
// batch axes, broadcast operands, row-strided and packed operands), shared by the wasm and BLAS
// kernel tests, which run each on their backend and on the reference backend.
import { loadBackend, randn, split, type Tensor, tidy } from '../index.js';

export type MatmulCase = [name: string, make: (be: string) => Tensor];

const rnd = (shape: number[], seed: number, backend: string) => randn(shape, { seed, backend });

export const stridedMatmulCases: MatmulCase[] = [
  ['plain [7,5] x [5,9]', (be) => rnd([7, 5], 1, be).matmul(rnd([5, 9], 2, be))],
  ['A^T view', (be) => rnd([5, 7], 1, be).mT.matmul(rnd([5, 9], 2, be))],
  ['B^T view', (be) => rnd([7, 5], 1, be).matmul(rnd([9, 5], 2, be).mT)],
  ['both transposed', (be) => rnd([5, 7], 1, be).mT.matmul(rnd([9, 5], 2, be).mT)],
  [
    'batched [2,3,4,6] x [2,3,6,5]',
    (be) => rnd([2, 3, 4, 6], 1, be).matmul(rnd([2, 3, 6, 5], 2, be)),
  ],
  ['broadcast weight [4,3,6] x [6,8]', (be) => rnd([4, 3, 6], 1, be).matmul(rnd([6, 8], 2, be))],
  ['broadcast left [6,8] x [3,8,5]', (be) => rnd([6, 8], 1, be).matmul(rnd([3, 8, 5], 2, be))],
  [
    'batch axes that do not merge (permuted) [3,2,4,6]',
    (be) =>
      rnd([2, 3, 4, 6], 1, be)
        .permute([1, 0, 2, 3])
        .matmul(rnd([3, 2, 6, 5], 2, be)),
  ],
  [
    'attention heads sliced from a fused qkv (row stride 3C: packed for wasm, ld for BLAS)',
    (be) => {
      const [q, k] = split(rnd([2, 6, 3 * 8], 1, be), 3, -1) as [Tensor, Tensor, Tensor];
      const heads = (t: Tensor) => t.reshape([2, 6, 2, 4]).transpose(1, 2);
      return heads(q).matmul(heads(k).mT);
    },
  ],
  [
    'column slice (strided rows)',
    (be) =>
      rnd([6, 10], 1, be)
        .slice(1, 2, 7)
        .matmul(rnd([5, 3], 2, be)),
  ],
  [
    'neither row- nor column-major (packed): a stepped slice',
    (be) =>
      rnd([12, 10], 1, be)
        .reshape([6, 20])
        .slice(1, 0, 20)
        .reshape([6, 2, 10])
        .slice(2, 1, 7)
        .matmul(rnd([6, 3], 2, be)),
  ],
  ['K = 1 outer product', (be) => rnd([6, 1], 1, be).matmul(rnd([1, 4], 2, be))],
  [
    'large enough for the worker pool [64,256] x [256,160]',
    (be) => rnd([64, 256], 1, be).matmul(rnd([256, 160], 2, be)),
  ],
];

/**
 * The strided cases plus a GPT MLP-sized product, each as [name, check]: `check` runs it on
 * `backend` and on `cpu-reference` and returns the worst relative difference (for an expect).
 */
export function stridedMatmulChecks(backend: string): [string, () => Promise<number>][] {
  const cases: MatmulCase[] = [
    ...stridedMatmulCases,
    [
      'GPT MLP-sized [2,64,96] x [96,384]',
      (be) => rnd([2, 64, 96], 1, be).matmul(rnd([96, 384], 2, be)),
    ],
  ];
  return cases.map(([name, make]) => [
    name,
    async () => {
      await loadBackend(backend);
      const ref = tidy(() => make('cpu-reference').dataSync());
      const got = tidy(() => make(backend).dataSync());
      if (got.length !== ref.length) return Number.POSITIVE_INFINITY;
      let worst = 0;
      for (let i = 0; i < ref.length; i++) {
        worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)));
      }
      return worst;
    },
  ]);
}

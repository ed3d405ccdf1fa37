// AdamW through adamwStep on the fast CPU backend: the README example, run by test/examples.test.ts.
// region readme
import { adamwStep, getBackend, randn, tidy, wasmKernelsOf, zerosLike } from '@lrw/tensor';

export function fitWithAdamW(steps = 30): { losses: number[]; paths: string[]; fast: boolean } {
  const w = randn([64, 64], { seed: 1, std: 0.1 }).requireGrad();
  const x = randn([128, 64], { seed: 2 });
  const target = randn([128, 64], { seed: 3 });
  const m = zerosLike(w); // AdamW moments, same shape as w
  const v = zerosLike(w);
  const losses: number[] = [];
  const paths: string[] = [];
  for (let step = 1; step <= steps; step++) {
    // The matmul runs on the wasm SIMD gemm of the default 'cpu' backend.
    losses.push(
      tidy(() => {
        const loss = x.matmul(w).sub(target).square().mean();
        loss.backward();
        return loss.itemSync();
      }),
    );
    paths.push(adamwStep(w, w.grad!, m, v, { lr: 0.01, weightDecay: 0.01, step })); // one pass
    w.zeroGrad();
  }
  for (const t of [w, x, target, m, v]) t.dispose();
  return { losses, paths, fast: wasmKernelsOf(getBackend('cpu')) !== undefined };
}
// endregion readme

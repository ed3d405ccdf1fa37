// A linear classifier trained with plain SGD: the README's example, run by test/examples.test.ts.
// Run it yourself after `npx tsc -b`: `npx tsx examples/linear-classifier.ts` (or paste into a module).
// region readme
import { crossEntropy, noGrad, randn, tensor, tidy } from '@lrw/tensor';

export function trainLinearClassifier(steps = 20): number[] {
  const w = randn([4, 3], { seed: 1, std: 0.1 }).requireGrad(); // (C, V)
  const x = randn([8, 4], { seed: 2 }); // (N, C)
  const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' }); // (N)
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      const l = crossEntropy(x.matmul(w), y).mean(); // per-token losses (N) -> mean
      l.backward();
      return l.itemSync();
    });
    noGrad(() => w.sub_(w.grad!, 0.5)); // w -= 0.5 * grad
    w.zeroGrad();
    losses.push(loss);
  }
  for (const t of [w, x, y]) t.dispose();
  return losses;
}
// endregion readme

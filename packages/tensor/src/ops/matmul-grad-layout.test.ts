import { describe, expect, it } from 'vitest';
import type { KernelCall } from '../backend.js';
import { getBackend, randn, type Tensor, tidy } from '../index.js';
import { isContiguous } from '../shape.js';

// The gradient of an operand read through a transposed view (x.matmul(w.mT), the linear layers'
// form) comes back in the view's layout, so the weight's gradient arrives contiguous (no
// strided transposing copy in backward), and equals the gradient through a materialized
// transpose.
function grads(backend: string, materialize: boolean, batch: boolean) {
  const be = getBackend(backend) as { run(call: KernelCall): void };
  const run = be.run;
  let stridedCopies = 0;
  return tidy(() => {
    const x = randn(batch ? [2, 5, 6] : [5, 6], { seed: 1, backend }).requireGrad();
    const w = randn([4, 6], { seed: 2, backend }).requireGrad(); // [N, K]
    const a = randn([6, 5], { seed: 3, backend }).requireGrad(); // read as a.mT: [5, 6]
    const wt = materialize ? w.mT.contiguous() : w.mT;
    const at = materialize ? a.mT.contiguous() : a.mT;
    const y = x.matmul(wt);
    const q = at.matmul(randn([6, 3], { seed: 5, backend }));
    const g = randn(y.shape, { seed: 4, backend });
    const gq = randn(q.shape, { seed: 6, backend });
    be.run = (call: KernelCall) => {
      const v = call.inputs[0];
      if (call.kernel === 'copy' && v && !isContiguous(v.shape, v.strides)) stridedCopies++;
      run.call(be, call);
    };
    try {
      y.mul(g).sum().add(q.mul(gq).sum()).backward();
    } finally {
      be.run = run;
    }
    const out = {
      dx: x.grad!.dataSync(),
      dw: w.grad!.dataSync(),
      da: a.grad!.dataSync(),
      stridedCopies,
    };
    for (const t of [x, w, a] as Tensor[]) t.dispose();
    return out;
  });
}

describe('matmul gradient of a transposed operand', () => {
  for (const backend of ['cpu', 'cpu-reference']) {
    for (const batch of [false, true]) {
      it(`${backend}${batch ? ', batched x with a broadcast weight' : ''}: equals the gradient through a materialized transpose, without a transposing copy`, () => {
        const view = grads(backend, false, batch);
        const copy = grads(backend, true, batch);
        for (const k of ['dx', 'dw', 'da'] as const) {
          expect(view[k].length).toBe(copy[k].length);
          for (let i = 0; i < copy[k].length; i++) expect(view[k][i]).toBeCloseTo(copy[k][i]!, 5);
        }
        // Not batched: the transposes of dw and da cloned into .grad, only without the rule.
        // (Batched, sumTo's reduction over the batch axis copies in both.)
        if (!batch) {
          expect(view.stridedCopies).toBe(0);
          expect(copy.stridedCopies).toBe(2);
        } else expect(view.stridedCopies).toBeLessThan(copy.stridedCopies);
      });
    }
  }
});

// Extending a backend: a replacement kernel and a fused routine on a CPU backend, checked by the
// shared conformance suite. The example of docs/backends.md, run by test/examples.test.ts.
// region readme
import {
  type CpuKernel,
  cpuReferenceKernels,
  createCpuBackend,
  loadBackend,
  type Routine,
  registerBackend,
  type SoftmaxAttrs,
  tensor,
  tidy,
} from '@lrw/tensor';
import { runConformanceSuite } from '@lrw/tensor/testing';

export async function customCpuBackend(): Promise<{
  probs: number[];
  sumCalls: number;
  passed: number;
  failed: number;
}> {
  let sumCalls = 0;
  // A kernel: its attributes are typed by name (a `sum` gets { inner: number }).
  const countingSum: CpuKernel<'sum'> = (call, cpu) => {
    if (call.attrs.inner > 0) sumCalls++;
    cpuReferenceKernels.sum!(call, cpu);
  };
  // A fused routine of the composite op `softmax` (its attributes: SoftmaxAttrs).
  const softmax: Routine<SoftmaxAttrs> = {
    forward([x], { axis }, ctx) {
      const y = tidy(() => {
        const e = x.sub(x.max(axis, true)).exp();
        return e.div(e.sum(axis, true));
      });
      ctx.save(y);
      return y;
    },
    backward(g, ctx) {
      const [y] = ctx.saved;
      return [y.mul(g.sub(g.mul(y).sum(ctx.attrs.axis, true)))];
    },
  };
  registerBackend('cpu-custom', () => {
    const backend = createCpuBackend({ name: 'cpu-custom', routines: { softmax } });
    backend.registerKernel('sum', countingSum);
    return backend;
  });
  await loadBackend('cpu-custom');
  const probs = tidy(() =>
    Array.from(tensor([1, 2, 3], { backend: 'cpu-custom' }).softmax().dataSync()),
  );
  // The shared suite: forward against float64 references, gradients against finite differences.
  const report = await runConformanceSuite('cpu-custom', { only: ['softmax', 'sum'] });
  return { probs, sumCalls, passed: report.passed.length, failed: report.failed.length };
}
// endregion readme

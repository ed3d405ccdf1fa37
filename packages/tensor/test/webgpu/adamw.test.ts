/**
 * `adamwStep` on the WebGPU backend: the one-pass WGSL routine against torch.optim.AdamW (the
 * fixture of src/ops/adamw.test.ts, three steps) and against the composed path and the wasm pass
 * on random tensors with several hyper-parameter sets, offsets (views into a larger buffer) and a
 * size that is not a multiple of the workgroup. Strided views fall back to the composed path.
 * Skipped with the reason printed when no adapter can be created.
 */
import { describe, expect, it } from 'vitest';
import {
  adamwStep,
  assertNoLeaks,
  loadBackend,
  randn,
  type Tensor,
  tensor,
  zeros,
} from '../../src/index.js';
import { adamwGolden } from '../../src/ops/adamw.test-helpers.js';
import { webGpuForTests } from './setup.js';

const gpu = await webGpuForTests();
const skip = !gpu.backend;
const why = skip ? ` (skipped: ${gpu.reason})` : '';

const golden = adamwGolden;

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

describe('adamwStep on webgpu', () => {
  it.skipIf(skip || !golden)(
    `three steps match PyTorch on the one-pass WGSL routine, without leaks${why}`,
    async () => {
      const g = golden!;
      const backend = 'webgpu';
      const p = tensor(g.p0, { backend });
      const m = zeros([g.p0.length], { backend });
      const v = zeros([g.p0.length], { backend });
      const launches = gpu.backend!.launches;
      assertNoLeaks(() => {
        g.grads.forEach((gr, i) => {
          const grad = tensor(gr, { backend });
          expect(adamwStep(p, grad, m, v, { ...g.config, step: i + 1 })).toBe('webgpu');
          grad.dispose();
        });
      });
      // One dispatch per step (the composed path takes about 11).
      expect(gpu.backend!.launches - launches).toBe(g.grads.length);
      expect(maxDiff(await p.data(), g.p)).toBeLessThan(3e-7);
      expect(maxDiff(await m.data(), g.m)).toBeLessThan(1e-8);
      expect(maxDiff(await v.data(), g.v)).toBeLessThan(1e-9);
      for (const t of [p, m, v]) t.dispose();
    },
  );

  it.skipIf(skip)(
    `agrees with the composed path (cpu-reference) and the wasm pass (cpu) over 5 steps, at offsets${why}`,
    async () => {
      await loadBackend('cpu-reference');
      const n = 1000; // not a multiple of the workgroup size
      const cases = [
        { lr: 1e-3, weightDecay: 0.01 },
        { lr: 3e-2, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 },
        { lr: 0.5, beta1: 0, beta2: 0, weightDecay: 0 },
      ];
      for (const hp of cases) {
        const init = {
          p: randn([n + 7], { seed: 1 }),
          m: randn([n + 7], { seed: 2, std: 0.1 }),
          v: randn([n + 7], { seed: 3 }).square(),
        };
        const grads = [0, 1, 2, 3, 4].map((s) => randn([n], { seed: 10 + s }));
        const host = {
          p: await init.p.data(),
          m: await init.m.data(),
          v: await init.v.data(),
          g: await Promise.all(grads.map((t) => t.data())),
        };
        for (const t of [...Object.values(init), ...grads]) t.dispose();
        const results: Record<string, Float32Array[]> = {};
        for (const [backend, path] of [
          ['webgpu', 'webgpu'],
          ['cpu-reference', 'composed'],
          ['cpu', 'wasm'],
        ] as const) {
          // Views at offset 7 into larger buffers: the routine reads each operand's offset.
          const whole = (x: Float32Array | Int32Array) => tensor(x as Float32Array, { backend });
          const buffers = [whole(host.p), whole(host.m), whole(host.v)];
          const [p, m, v] = buffers.map((b) => b.slice(0, 7, 7 + n)) as [Tensor, Tensor, Tensor];
          for (let s = 0; s < 5; s++) {
            const g = tensor(host.g[s]!, { backend });
            expect(adamwStep(p, g, m, v, { ...hp, step: s + 1 })).toBe(path);
            g.dispose();
          }
          results[backend] = [await p.data(), await m.data(), await v.data()] as Float32Array[];
          // The 7 elements before the views are untouched.
          expect(Array.from((await buffers[0]!.data()).subarray(0, 7))).toEqual(
            Array.from(host.p.subarray(0, 7)),
          );
          for (const t of [p, m, v, ...buffers]) t.dispose();
        }
        const [pw, mw, vw] = results.webgpu!;
        for (const other of ['cpu-reference', 'cpu']) {
          const [po, mo, vo] = results[other]!;
          const scale = Math.max(...Array.from(po, Math.abs));
          expect(maxDiff(pw!, po!) / scale, `param vs ${other}`).toBeLessThan(1e-6);
          expect(maxDiff(mw!, mo!), `m vs ${other}`).toBeLessThan(1e-6);
          expect(maxDiff(vw!, vo!), `v vs ${other}`).toBeLessThan(1e-5);
        }
        // The routine does the wasm kernel's float32 operations in its order: near-identical.
        const [pc] = results.cpu!;
        expect(maxDiff(pw!, pc!), 'param vs wasm').toBeLessThan(1e-6);
      }
    },
  );

  it.skipIf(skip)(`strided views take the composed path on webgpu${why}`, async () => {
    const mk = () => randn([3, 5], { seed: 4, backend: 'webgpu' });
    const [p, g, m, v] = [mk(), mk(), mk(), mk().square()];
    const [p2, g2, m2, v2] = [p.clone(), g.clone(), m.clone(), v.clone()];
    expect(adamwStep(p.mT, g.mT, m.mT, v.mT, { lr: 0.1, step: 2 })).toBe('composed');
    expect(adamwStep(p2, g2, m2, v2, { lr: 0.1, step: 2 })).toBe('webgpu');
    expect(maxDiff(await p.data(), await p2.data())).toBeLessThan(1e-6);
    for (const t of [p, g, m, v, p2, g2, m2, v2]) t.dispose();
  });
});

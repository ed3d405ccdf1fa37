import { assertNoLeaks, getBackend, type Tensor, tensor, tidy } from '@lrw/tensor';
import { useSoftwareWebGpu } from '@lrw/tensor/webgpu';
import { describe, expect, it } from 'vitest';
import { type GPT2Config, preset } from '../src/config.js';
import { GPT2 } from '../src/gpt2.js';

const unavailable = (await useSoftwareWebGpu({ only: process.env.LRW_WEBGPU_TEST_ROUTE })).reason;
if (unavailable) console.warn(`[webgpu step test skipped] ${unavailable}`);

/** Mean per-sample loss of one batch, backward into the parameters; returns the loss value. */
async function step(model: GPT2, ids: Int32Array, targets: Int32Array, B: number, T: number) {
  const backend = model.parameters()[0].backend.name;
  const x = tensor(ids, { shape: [B, T], dtype: 'int32', backend });
  const loss = tidy(() => {
    const l = model.perSampleLoss(x, targets).losses.mean();
    l.backward();
    return l;
  });
  const value = (await loss.data())[0];
  loss.dispose();
  x.dispose();
  return value;
}

describe('gpt2-nano training step: webgpu vs cpu', () => {
  it.skipIf(!!unavailable)(
    `loss within 1e-4, gradients within 1e-3${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      const config = preset('gpt2-nano') as GPT2Config;
      const cpu = new GPT2(config, { seed: 3, backend: 'cpu' });
      const gpu = new GPT2(config, { seed: 3, backend: 'webgpu' });
      const state = new Map(
        cpu.namedParameters().map(([n, p]) => [n, p.dataSync() as Float32Array]),
      );
      gpu.loadStateDict(state);
      const B = 2;
      const T = 32;
      const ids = new Int32Array(B * T);
      const targets = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) {
        ids[i] = (i * 37 + 11) % config.vocabSize;
        targets[i] = i % 9 === 4 ? -100 : (i * 53 + 5) % config.vocabSize; // a few ignored
      }
      const want = await step(cpu, ids, targets, B, T);
      const cpuParams = new Map(cpu.namedParameters());
      let worst = 0;
      let worstName = '';
      // The step, the gradient reads and zeroGrad leave nothing behind on the webgpu side.
      const got = await assertNoLeaks(async () => {
        const loss = await step(gpu, ids, targets, B, T);
        for (const [name, p] of gpu.namedParameters()) {
          const gw = (cpuParams.get(name) as Tensor).grad!.dataSync();
          const gg = await p.grad!.data();
          let scale = 0;
          let err = 0;
          for (let i = 0; i < gw.length; i++) {
            scale = Math.max(scale, Math.abs(gw[i]));
            err = Math.max(err, Math.abs(gg[i] - gw[i]));
          }
          const rel = err / Math.max(scale, 1e-12);
          if (rel > worst) [worst, worstName] = [rel, name];
        }
        gpu.zeroGrad();
        return loss;
      });
      console.log(
        `gpt2-nano step on ${(getBackend('webgpu') as { route?: string }).route}: loss cpu ${want.toFixed(6)} webgpu ${got.toFixed(6)}, worst gradient ${worstName} ${worst.toExponential(2)}`,
      );
      expect(Math.abs(got - want) / Math.abs(want)).toBeLessThan(1e-4);
      expect(worst, worstName).toBeLessThan(1e-3);
      cpu.dispose();
      gpu.dispose();
    },
  );
});

/**
 * GPT-2 training steps (forward, per-sample losses, backward, AdamW) on the CPU backend with
 * every product on @lrw/tensor's native gemm (the addon's own blocked sgemm) against the same
 * steps on the wasm gemm: the losses agree to float32 rounding, step after step, and two runs
 * on the native gemm are bit-identical. Skipped, with the reason, where the addon is not built.
 */
import {
  adamwStep,
  cpuProvider,
  createFastCpuBackend,
  getBackend,
  loadBackend,
  noGrad,
  registerBackend,
  type Tensor,
  tensor,
  tidy,
  wasmKernelsOf,
  zerosLike,
} from '@lrw/tensor';
import { loadNativeGemmProvider } from '@lrw/tensor/cpu-wasm';
import { describe, expect, it } from 'vitest';
import { GPT2 } from './gpt2.js';
import { causalTargets } from './per-sample-loss.js';

const native = loadNativeGemmProvider();
if (!native.provider) console.log(`skipping the native gemm training parity: ${native.reason}`);

for (const [name, options] of [
  ['cpu-native-gemm-parity', { gemm: 'native' }],
  ['cpu-wasm-gemm-parity', { blas: 'off' }],
] as const) {
  registerBackend(name, () =>
    createFastCpuBackend({
      name,
      ...options,
      blasMinFlops: 0,
      wasmKernels: wasmKernelsOf(getBackend('cpu')),
    }),
  );
}

/** Losses of `steps` AdamW steps of a small GPT-2 on one fixed batch, on `backend`. */
async function train(backend: string, steps: number): Promise<number[]> {
  await loadBackend(backend);
  const model = new GPT2(
    { arch: 'gpt2', vocabSize: 96, contextLength: 32, dModel: 48, nLayers: 2, nHeads: 4 },
    { seed: 3, backend },
  );
  const B = 4;
  const T = 32;
  let s = 777;
  const tokens = Int32Array.from({ length: B * (T + 1) }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor(s / 65536) % 96;
  });
  const { inputs, targets } = causalTargets(tokens, B);
  const ids = tensor(inputs, { shape: [B, T], dtype: 'int32', backend });
  const params = model.parameters();
  const m: Tensor[] = params.map((p) => zerosLike(p));
  const v: Tensor[] = params.map((p) => zerosLike(p));
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    losses.push(
      tidy(() => {
        const mean = model.perSampleLoss(ids, targets).losses.mean();
        mean.backward();
        return mean.itemSync();
      }),
    );
    noGrad(() =>
      params.forEach((p, i) => {
        adamwStep(p, p.grad!, m[i]!, v[i]!, { lr: 3e-3, step });
      }),
    );
    model.zeroGrad();
  }
  for (const x of [...m, ...v, ids]) x.dispose();
  model.dispose();
  return losses;
}

describe.skipIf(!native.provider)('GPT-2 training steps on the native gemm', () => {
  it('run on the native gemm (every product) and on the wasm gemm', async () => {
    await loadBackend('cpu-native-gemm-parity');
    await loadBackend('cpu-wasm-gemm-parity');
    expect(cpuProvider(getBackend('cpu-native-gemm-parity'))).toBe('native');
    expect(cpuProvider(getBackend('cpu-wasm-gemm-parity'))).toBe('wasm');
  });

  it('losses match the wasm gemm to float32 rounding; reruns are bit-identical', async () => {
    const viaNative = await train('cpu-native-gemm-parity', 6);
    const viaWasm = await train('cpu-wasm-gemm-parity', 6);
    expect(viaNative[0]).toBeGreaterThan(4); // ~ln 96 = 4.56 at init
    expect(viaNative[5]).toBeLessThan(viaNative[0]! - 0.05); // it trains
    for (let i = 0; i < 6; i++) expect(Math.abs(viaNative[i]! - viaWasm[i]!)).toBeLessThan(2e-4);
    expect(await train('cpu-native-gemm-parity', 6)).toEqual(viaNative);
  });
});

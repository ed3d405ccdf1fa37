/**
 * Sanity check (Karpathy's "overfit one batch"): a nano GPT-2 and a nano Llama drive the
 * per-sample loss of a single fixed batch below 0.1 with a plain Adam written here, starting
 * from ln(V) ~ 3.5. A model that cannot memorise 64 tokens has a broken forward or backward.
 */
import { noGrad, type Tensor, tensor, tidy, zerosLike } from '@lrw/tensor';
import { describe, expect, it } from 'vitest';
import type { CausalLM } from './causal-lm.js';
import { GPT2 } from './gpt2.js';
import { Llama } from './llama.js';
import { causalTargets } from './per-sample-loss.js';

/** Adam (Kingma & Ba 2015) with bias correction, no weight decay. */
function adam(params: Tensor[], lr: number, beta1 = 0.9, beta2 = 0.99, eps = 1e-8) {
  const m = params.map((p) => zerosLike(p));
  const v = params.map((p) => zerosLike(p));
  let t = 0;
  return {
    step() {
      t++;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      noGrad(() =>
        tidy(() => {
          params.forEach((p, i) => {
            const g = p.grad!;
            m[i].mul_(beta1).add_(g, 1 - beta1);
            v[i].mul_(beta2).add_(g.square(), 1 - beta2);
            p.sub_(m[i].div(c1).div(v[i].div(c2).sqrt().add(eps)), lr);
          });
        }),
      );
    },
    dispose() {
      for (const x of [...m, ...v]) x.dispose();
    },
  };
}

function overfit(model: CausalLM, steps: number, lr: number): number[] {
  const B = 4;
  const T = 16;
  const V = model.config.vocabSize;
  let s = 12345;
  const tokens = Int32Array.from({ length: B * (T + 1) }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor(s / 65536) % V; // high bits: an LCG's low bits have a short period
  });
  const { inputs, targets } = causalTargets(tokens, B);
  const ids = tensor(inputs, { shape: [B, T], dtype: 'int32' });
  const opt = adam(model.parameters(), lr);
  const history: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      const r = model.perSampleLoss(ids, targets);
      const mean = r.losses.mean();
      mean.backward();
      return mean.itemSync();
    });
    opt.step();
    model.zeroGrad();
    history.push(loss);
  }
  opt.dispose();
  ids.dispose();
  return history;
}

describe('overfitting a single batch', () => {
  it('nano GPT-2 reaches loss < 0.1', () => {
    const model = new GPT2(
      { arch: 'gpt2', vocabSize: 32, contextLength: 16, dModel: 32, nLayers: 2, nHeads: 2 },
      { seed: 0 },
    );
    const h = overfit(model, 40, 1e-2);
    expect(h[0]).toBeGreaterThan(3); // ~ln 32 = 3.47 at init
    expect(h[h.length - 1]).toBeLessThan(0.1);
    model.dispose();
  });

  it('nano Llama reaches loss < 0.1', () => {
    const model = new Llama(
      {
        arch: 'llama',
        vocabSize: 32,
        contextLength: 16,
        dModel: 32,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 2,
        dFF: 64,
      },
      { seed: 0 },
    );
    const h = overfit(model, 40, 1e-2);
    expect(h[0]).toBeGreaterThan(3);
    expect(h[h.length - 1]).toBeLessThan(0.1);
    model.dispose();
  });
});

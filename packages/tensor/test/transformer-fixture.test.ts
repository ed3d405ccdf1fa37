/**
 * Parity with PyTorch: a 2-layer GPT-2-style and a 2-layer Llama-style stack, forward and backward,
 * against test/fixtures/transformer-fixture.json (see tooling/reference/make-tensor-transformer-fixture.py).
 * Legend: B batch, T time, C channels, H heads, D head size, V vocabulary.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  arange,
  assertNoLeaks,
  crossEntropy,
  embedding,
  layerNorm,
  rmsNorm,
  scaledDotProductAttention,
  split,
  type Tensor,
  tensor,
  tidy,
} from '../src/index.js';

interface Enc {
  shape: number[];
  data: number[];
}
interface Run {
  params: Record<string, Enc>;
  logits: Enc;
  perTokenLoss: Enc;
  perSampleLoss: Enc;
  loss: number;
  grads: Record<string, Enc>;
}
const fx = JSON.parse(
  readFileSync(new URL('./fixtures/transformer-fixture.json', import.meta.url), 'utf8'),
) as {
  config: { B: number; T: number; C: number; H: number; V: number; layers: number };
  tokens: number[][];
  targets: number[][];
  sampleWeights: number[];
  gpt2: Run;
  llama: Run;
};
const { B, T, C, H, V, layers } = fx.config;
const D = C / H;

type Params = Record<string, Tensor>;

function attention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  // (B, T, C) -> (B, H, T, D) -> causal attention -> (B, T, C)
  const heads = (t: Tensor) => t.reshape([B, T, H, D]).transpose(1, 2);
  return scaledDotProductAttention(heads(q), heads(k), heads(v)).transpose(1, 2).reshape([B, T, C]);
}

function gpt2(p: Params, tokens: Tensor): Tensor {
  let x = embedding(p.wte, tokens).add(embedding(p.wpe, arange(T))); // (B, T, C)
  for (let l = 0; l < layers; l++) {
    const n = (s: string) => p[`h.${l}.${s}`];
    let h = layerNorm(x, n('ln_1.weight'), n('ln_1.bias'));
    const [q, k, v] = split(h.matmul(n('attn.c_attn.weight')).add(n('attn.c_attn.bias')), 3, -1);
    x = x.add(attention(q, k, v).matmul(n('attn.c_proj.weight')).add(n('attn.c_proj.bias')));
    h = layerNorm(x, n('ln_2.weight'), n('ln_2.bias'));
    h = h.matmul(n('mlp.c_fc.weight')).add(n('mlp.c_fc.bias')).gelu(); // (B, T, 4C)
    x = x.add(h.matmul(n('mlp.c_proj.weight')).add(n('mlp.c_proj.bias')));
  }
  return layerNorm(x, p['ln_f.weight'], p['ln_f.bias']).matmul(p.wte.mT); // (B, T, V), tied head
}

function llama(p: Params, tokens: Tensor): Tensor {
  let x = embedding(p.embed_tokens, tokens);
  const linear = (h: Tensor, w: Tensor) => h.matmul(w.mT); // HF layout: weight (out, in)
  for (let l = 0; l < layers; l++) {
    const n = (s: string) => p[`layers.${l}.${s}`];
    let h = rmsNorm(x, n('input_layernorm.weight'));
    const [q, k, v] = ['q_proj', 'k_proj', 'v_proj'].map((s) =>
      linear(h, n(`self_attn.${s}.weight`)),
    );
    x = x.add(linear(attention(q, k, v), n('self_attn.o_proj.weight')));
    h = rmsNorm(x, n('post_attention_layernorm.weight'));
    const g = linear(h, n('mlp.gate_proj.weight'))
      .silu()
      .mul(linear(h, n('mlp.up_proj.weight')));
    x = x.add(linear(g, n('mlp.down_proj.weight')));
  }
  return linear(rmsNorm(x, p['norm.weight']), p['lm_head.weight']);
}

function expectClose(got: ArrayLike<number>, want: Enc, what: string, tol = 1e-4): void {
  expect(got.length, what).toBe(want.data.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.data[i]));
  expect(worst, `${what}: max abs diff`).toBeLessThanOrEqual(tol);
}

describe.each([
  ['gpt2', gpt2],
  ['llama', llama],
] as const)('%s 2-layer stack vs PyTorch (float64) within 1e-4', (name, model) => {
  it('matches logits, per-token and per-sample losses, the weighted loss and every parameter gradient', async () => {
    const run = fx[name];
    const params: Params = {};
    for (const [k, v] of Object.entries(run.params)) {
      params[k] = tensor(Float32Array.from(v.data), { shape: v.shape, requiresGrad: true });
    }
    const tokens = tensor(Int32Array.from(fx.tokens.flat()), { shape: [B, T] });
    const targets = tensor(Int32Array.from(fx.targets.flat()), { shape: [B, T] });
    const weights = tensor(fx.sampleWeights);
    await assertNoLeaks(async () => {
      const out = tidy(() => {
        const logits = model(params, tokens); // (B, T, V)
        const perToken = crossEntropy(logits, targets); // (B, T), 0 where ignored
        const active = targets.ne(-100).sum(1); // (B)
        const perSample = perToken.sum(1).div(active); // (B)
        const loss = perSample.mul(weights).sum(); // sum_i w_i l_i
        loss.backward();
        return {
          logits: logits.dataSync(),
          perToken: perToken.dataSync(),
          perSample: perSample.dataSync(),
          loss: loss.itemSync(),
        };
      });
      expect(V).toBe(run.logits.shape[2]);
      expectClose(out.logits, run.logits, 'logits');
      expectClose(out.perToken, run.perTokenLoss, 'per-token loss');
      expect(out.perToken[4]).toBe(0); // targets[0][4] is ignored
      expectClose(out.perSample, run.perSampleLoss, 'per-sample loss');
      expect(Math.abs(out.loss - run.loss)).toBeLessThanOrEqual(1e-4);
      for (const [k, p] of Object.entries(params)) {
        expect(p.grad, k).not.toBeNull();
        expectClose(p.grad!.dataSync(), run.grads[k], `grad ${k}`);
        p.zeroGrad();
      }
    });
    for (const t of [...Object.values(params), tokens, targets, weights]) t.dispose();
  });
});

/**
 * 100 training steps of a 1-layer transformer language model with plain SGD leak no tensors and
 * no buffers, and the pool stops growing after the first step (every step reuses the same sizes).
 * Legend: B batch, T time, C channels, H heads, D head size, V vocabulary.
 */
import { describe, expect, it } from 'vitest';
import {
  arange,
  assertNoLeaks,
  crossEntropy,
  embedding,
  Generator,
  layerNorm,
  memory,
  noGrad,
  ones,
  randn,
  scaledDotProductAttention,
  split,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from '../src/index.js';

const B = 4;
const T = 8;
const C = 16;
const H = 2;
const D = C / H;
const V = 12;

function makeParams(): Record<string, Tensor> {
  const g = new Generator(42);
  const w = (shape: number[], std = 0.1) => randn(shape, { generator: g, std }).requireGrad();
  return {
    wte: w([V, C], 0.3),
    wpe: w([T, C], 0.05),
    ln1w: ones([C]).requireGrad(),
    ln1b: zeros([C]).requireGrad(),
    attnW: w([C, 3 * C]),
    projW: w([C, C]),
    ln2w: ones([C]).requireGrad(),
    ln2b: zeros([C]).requireGrad(),
    fcW: w([C, 4 * C]),
    fcB: zeros([4 * C]).requireGrad(),
    outW: w([4 * C, C]),
    lnfw: ones([C]).requireGrad(),
    lnfb: zeros([C]).requireGrad(),
  };
}

function forward(p: Record<string, Tensor>, tokens: Tensor, step: number): Tensor {
  let x = embedding(p.wte, tokens).add(embedding(p.wpe, arange(T))); // (B, T, C)
  const heads = (t: Tensor) => t.reshape([B, T, H, D]).transpose(1, 2); // (B, H, T, D)
  const [q, k, v] = split(layerNorm(x, p.ln1w, p.ln1b).matmul(p.attnW), 3, -1);
  const a = scaledDotProductAttention(heads(q), heads(k), heads(v))
    .transpose(1, 2)
    .reshape([B, T, C]);
  x = x.add(a.matmul(p.projW).dropout(0.1, { seed: 7, offset: step * 1000 }));
  const h = layerNorm(x, p.ln2w, p.ln2b).matmul(p.fcW).add(p.fcB).gelu();
  x = x.add(h.matmul(p.outW));
  return layerNorm(x, p.lnfw, p.lnfb).matmul(p.wte.mT); // (B, T, V)
}

describe('training without leaks', () => {
  it('runs 100 SGD steps of a 1-layer transformer with no leaked tensors or buffers', async () => {
    const params = makeParams();
    // A learnable sequence task: predict the next token of a fixed permutation cycle.
    const seq = Array.from({ length: B * (T + 1) }, (_, i) => (i * 5 + 3) % V);
    const tokens = tensor(
      Int32Array.from({ length: B * T }, (_, i) => seq[Math.floor(i / T) * (T + 1) + (i % T)]),
      { shape: [B, T] },
    );
    const targets = tensor(
      Int32Array.from({ length: B * T }, (_, i) => seq[Math.floor(i / T) * (T + 1) + (i % T) + 1]),
      {
        shape: [B, T],
      },
    );
    const losses: number[] = [];
    let pooledAfterFirst = 0;
    await assertNoLeaks(() => {
      for (let step = 0; step < 100; step++) {
        const loss = tidy(() => {
          const l = crossEntropy(forward(params, tokens, step), targets).mean();
          l.backward();
          return l.itemSync();
        });
        losses.push(loss);
        noGrad(() => {
          for (const p of Object.values(params)) {
            p.sub_(p.grad!, 0.3);
            p.zeroGrad();
          }
        });
        if (step === 1) pooledAfterFirst = memory().backend.pooledBytes;
      }
    });
    expect(memory().backend.pooledBytes).toBe(pooledAfterFirst);
    expect(losses[99]).toBeLessThan(losses[0] * 0.5);
    for (const t of [...Object.values(params), tokens, targets]) t.dispose();
  });

  it('detects a leak: a tensor created and never disposed', async () => {
    let leaked: Tensor | undefined;
    await expect(
      assertNoLeaks(() => {
        leaked = ones([3]);
      }),
    ).rejects.toThrow(/1 tensor\(s\) and 1 buffer\(s\) leaked.*from 'ones'/);
    leaked?.dispose();
  });
});

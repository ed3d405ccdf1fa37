import {
  assertNoLeaks,
  createFastCpuBackend,
  getBackend,
  loadBackend,
  memory,
  noGrad,
  registerBackend,
  tensor,
  tidy,
  wasmKernelsOf,
} from '@lrw/tensor';
import { describe, expect, it } from 'vitest';
import type { GPT2Config, LlamaConfig } from './config.js';
import { GPT2 } from './gpt2.js';
import { hasFusedHead, linearCrossEntropy } from './linear-cross-entropy.js';
import { Llama } from './llama.js';

const gcfg: GPT2Config = {
  arch: 'gpt2',
  vocabSize: 29,
  contextLength: 12,
  dModel: 16,
  nLayers: 2,
  nHeads: 2,
};
const lcfg: LlamaConfig = {
  arch: 'llama',
  vocabSize: 31,
  contextLength: 12,
  dModel: 16,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  dFF: 24,
};

function ids(values: number[], B: number) {
  return tensor(Int32Array.from(values), { shape: [B, values.length / B], dtype: 'int32' });
}

function std(x: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i];
    s2 += x[i] * x[i];
  }
  const m = s / x.length;
  return Math.sqrt(s2 / x.length - m * m);
}

describe('GPT2', () => {
  it('names its parameters like nanoGPT/HF blocks, in a fixed order', () => {
    const m = new GPT2({ ...gcfg, nLayers: 1 });
    expect([...m.stateDict().keys()]).toEqual([
      'tok_emb.weight',
      'pos_emb.weight',
      'blocks.0.norm1.weight',
      'blocks.0.norm1.bias',
      'blocks.0.attn.qkv.weight',
      'blocks.0.attn.qkv.bias',
      'blocks.0.attn.out.weight',
      'blocks.0.attn.out.bias',
      'blocks.0.norm2.weight',
      'blocks.0.norm2.bias',
      'blocks.0.mlp.fc.weight',
      'blocks.0.mlp.fc.bias',
      'blocks.0.mlp.proj.weight',
      'blocks.0.mlp.proj.bias',
      'norm_f.weight',
      'norm_f.bias',
    ]);
    expect(m.headWeight()).toBe(m.tokEmb.weight); // tied
    m.dispose();
  });

  it('initialises as GPT-2: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), seeded', () => {
    const cfg: GPT2Config = { ...gcfg, dModel: 48, nLayers: 8, nHeads: 4 };
    const a = new GPT2(cfg, { seed: 11 });
    const b = new GPT2(cfg, { seed: 11 });
    const c = new GPT2({ ...cfg, nLayers: 1 }, { seed: 12 });
    const sa = a.stateDict();
    expect(std(sa.get('blocks.3.mlp.fc.weight')!.dataSync())).toBeCloseTo(0.02, 3);
    expect(std(sa.get('blocks.3.attn.out.weight')!.dataSync())).toBeCloseTo(0.02 / 4, 3);
    expect(std(sa.get('blocks.3.mlp.proj.weight')!.dataSync())).toBeCloseTo(0.02 / 4, 3);
    expect([...sa.get('blocks.0.attn.qkv.bias')!.dataSync()].every((v) => v === 0)).toBe(true);
    expect([...sa.get('norm_f.weight')!.dataSync()].every((v) => v === 1)).toBe(true);
    for (const [n, t] of b.stateDict()) expect(t.dataSync(), n).toEqual(sa.get(n)!.dataSync());
    expect(c.stateDict().get('tok_emb.weight')!.dataSync()).not.toEqual(
      sa.get('tok_emb.weight')!.dataSync(),
    );
    for (const m of [a, b, c]) m.dispose();
  });

  it('seeded dropout: reproducible from the seed and the generator state, off in eval mode', () => {
    const cfg = { ...gcfg, dropout: 0.2 };
    const a = new GPT2(cfg, { seed: 5 });
    const b = new GPT2(cfg, { seed: 5 });
    tidy(() => {
      const x = ids([1, 2, 3, 4, 5, 6, 7, 8], 2);
      const state = a.dropoutGenerator.state();
      const a1 = a.forward(x).dataSync();
      const a2 = a.forward(x).dataSync();
      expect(a2).not.toEqual(a1); // fresh masks each step
      expect(b.forward(x).dataSync()).toEqual(a1); // same seed, same masks
      a.dropoutGenerator.load(state);
      expect(a.forward(x).dataSync()).toEqual(a1); // restored generator state
      a.eval();
      const e1 = a.forward(x).dataSync();
      expect(a.forward(x).dataSync()).toEqual(e1);
      const plain = new GPT2(gcfg, { seed: 5 });
      expect(plain.forward(x).dataSync()).toEqual(e1); // eval == no dropout
      plain.dispose();
    });
    a.dispose();
    b.dispose();
  });
});

for (const [name, make] of [
  ['GPT2', () => new GPT2(gcfg, { seed: 1 })],
  ['Llama', () => new Llama(lcfg, { seed: 1 })],
] as const) {
  describe(`${name} behaviour`, () => {
    it('is causal: a later token never changes earlier logits', () => {
      const m = make();
      tidy(() => {
        const a = m.forward(ids([3, 1, 4, 1, 5, 9], 1)).dataSync();
        const b = m.forward(ids([3, 1, 4, 1, 5, 2], 1)).dataSync();
        const V = m.config.vocabSize;
        expect(a.slice(0, 5 * V)).toEqual(b.slice(0, 5 * V));
        expect(a.slice(5 * V)).not.toEqual(b.slice(5 * V));
      });
      m.dispose();
    });

    it('refuses bad ids with the position and the fix', () => {
      const m = make();
      tidy(() => {
        expect(() => m.forward(ids([1, 2, 99], 1))).toThrow(
          /token id 99 at position 2 is outside the vocabulary/,
        );
        expect(() => m.forward(ids(new Array(13).fill(0), 1))).toThrow(
          /sequence length 13 exceeds the context length 12/,
        );
        expect(() => m.forward(tensor([[1, 2]]))).toThrow(/ids must be int32 \(B, T\)/);
      });
      m.dispose();
    });

    it('a training step leaks no tensor (forward, per-sample loss, backward, zeroGrad)', async () => {
      const m = make();
      await assertNoLeaks(() => {
        tidy(() => {
          const r = m.perSampleLoss(
            ids([1, 2, 3, 4, 5, 6], 2),
            Int32Array.from([2, 3, 4, 5, 6, 7]),
          );
          r.losses.mean().backward();
        });
        m.zeroGrad();
      });
      m.dispose();
    });
  });
}

describe('attention with dropout on the probabilities', () => {
  it('the composed path (train mode, p > 0) equals scaledDotProductAttention when no element drops', () => {
    // p = 1e-9: every Philox uniform (a multiple of 2^-24) except exact 0 is kept, scale ~1.
    for (const m of [
      new GPT2({ ...gcfg, dropout: 1e-9 }, { seed: 4 }),
      new Llama({ ...lcfg, dropout: 1e-9 }, { seed: 4 }),
    ]) {
      tidy(() => {
        const x = ids([1, 5, 2, 7, 3, 8, 0, 4], 2);
        const train = m.train().forward(x).dataSync();
        const evalOut = m.eval().forward(x).dataSync();
        for (let i = 0; i < train.length; i++) expect(train[i]).toBeCloseTo(evalOut[i], 5);
      });
      m.dispose();
    }
  });
});

describe('Llama', () => {
  it('grouped-query attention equals multi-head attention with repeated k/v heads', () => {
    const gqa = new Llama(lcfg, { seed: 3 });
    const mha = new Llama({ ...lcfg, nKvHeads: 4 }, { seed: 9 });
    const D = lcfg.dModel / lcfg.nHeads; // 4
    const state = new Map<string, Float32Array>();
    for (const [n, t] of gqa.stateDict()) {
      const d = t.dataSync() as Float32Array;
      if (/attn\.(k|v)\.weight$/.test(n)) {
        // (Hkv*D, C) -> (H*D, C): kv head j serves query heads 2j and 2j+1
        const C = t.shape[1];
        const out = new Float32Array(4 * D * C);
        for (let h = 0; h < 4; h++)
          out.set(
            d.subarray(Math.floor(h / 2) * D * C, (Math.floor(h / 2) + 1) * D * C),
            h * D * C,
          );
        state.set(n, out);
      } else state.set(n, Float32Array.from(d));
    }
    mha.loadStateDict(state);
    tidy(() => {
      const x = ids([1, 5, 2, 7, 3, 8, 0, 4], 2);
      const a = gqa.forward(x).dataSync();
      const b = mha.forward(x).dataSync();
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    });
    gqa.dispose();
    mha.dispose();
  });

  it('has an untied head and no biases', () => {
    const m = new Llama(lcfg);
    const names = [...m.stateDict().keys()];
    expect(names.some((n) => n.endsWith('.bias'))).toBe(false);
    expect(names).toContain('lm_head.weight');
    expect(m.headWeight()).not.toBe(m.tokEmb.weight);
    m.dispose();
  });
});

describe('Module state dicts', () => {
  it('loadStateDict refuses missing, unexpected and misshapen entries, naming them', () => {
    const m = new GPT2({ ...gcfg, nLayers: 1 });
    const state = new Map(m.stateDict());
    state.delete('norm_f.bias');
    state.set('extra.weight', state.get('norm_f.weight')!);
    expect(() => m.loadStateDict(state)).toThrow(
      /1 missing \(norm_f.bias\) and 1 unexpected \(extra.weight\)/,
    );
    expect(m.loadStateDict(state, { strict: false })).toEqual({
      missing: ['norm_f.bias'],
      unexpected: ['extra.weight'],
    });
    expect(() =>
      m.loadStateDict({ 'norm_f.bias': new Float32Array(3) }, { strict: false }),
    ).toThrow(/'norm_f.bias' has 3 values; the parameter \[16\] needs 16/);
    tidy(() => {
      expect(() => m.loadStateDict({ 'norm_f.bias': tensor([[1, 2]]) }, { strict: false })).toThrow(
        /'norm_f.bias' has shape \[1, ?2\]; the parameter is \[16\]/,
      );
    });
    m.dispose();
  });

  it('loadStateDict copies values (later changes to the source do not leak in)', () => {
    const a = new GPT2(gcfg, { seed: 1 });
    const b = new GPT2(gcfg, { seed: 2 });
    b.loadStateDict(a.stateDict());
    const w = b.stateDict().get('blocks.1.attn.qkv.weight')!;
    expect(w.dataSync()).toEqual(a.stateDict().get('blocks.1.attn.qkv.weight')!.dataSync());
    noGrad(() => a.stateDict().get('blocks.1.attn.qkv.weight')!.fill_(0));
    expect(w.dataSync()[0]).not.toBe(0);
    a.dispose();
    b.dispose();
  });
});

// 'cpu' with keepHeadLogitsBytes 0 (the memory-lean setting of @lrw/tensor's fused routine).
registerBackend('cpu-lean-head', () =>
  createFastCpuBackend({
    name: 'cpu-lean-head',
    keepHeadLogitsBytes: 0,
    wasmKernels: wasmKernelsOf(getBackend('cpu')),
  }),
);

describe('memory-lean head', () => {
  // 'cpu-lean-head': @lrw/tensor's fused routine with no logits kept (they live in one reused
  // scratch block, not in a tensor); 'cpu-reference': no routine, @lrw/models' chunked
  // recompute op; 'cpu': the fused routine's default, which keeps the (B*T, V) logits for
  // backward up to 256 MiB (one buffer, no more).
  it.each([
    ['cpu-lean-head', true, 0],
    ['cpu-reference', false, 0],
    ['cpu', true, 1],
  ] as const)(
    'keeps no (B*T, V) buffer alive between forward and backward, unlike the logits path (%s keeps %d)',
    async (backend, fused, kept) => {
      await loadBackend(backend);
      const cfg: GPT2Config = {
        arch: 'gpt2',
        vocabSize: 2048,
        contextLength: 32,
        dModel: 16,
        nLayers: 1,
        nHeads: 2,
      };
      const m = new GPT2(cfg, { seed: 1, backend });
      expect(hasFusedHead(getBackend(backend))).toBe(fused);
      const N = 4 * 32;
      const x = tensor(
        Int32Array.from({ length: N }, (_, i) => (i * 7) % 2048),
        { shape: [4, 32], dtype: 'int32', backend },
      );
      const y = Int32Array.from({ length: N }, (_, i) => (i * 13) % 2048);
      // Bytes held after the forward pass (saved activations + results), before backward.
      const held = (head: 'chunked' | 'logits' | 'hidden only') => {
        const base = memory().bytes;
        if (head === 'hidden only') {
          const h = m.hidden(x);
          const bytes = memory().bytes - base;
          h.dispose();
          return bytes;
        }
        const r = m.perSampleLoss(x, y, undefined, { head, chunkRows: 32 });
        const bytes = memory().bytes - base;
        r.losses.mean().backward();
        r.losses.dispose();
        r.tokenLosses.dispose();
        m.zeroGrad();
        return bytes;
      };
      const body = held('hidden only');
      const logitsExtra = held('logits') - body;
      const chunkedExtra = held('chunked') - body;
      const logitsBuffer = N * cfg.vocabSize * 4; // one (B*T, V) float32 buffer: 1 MiB
      // The composed path keeps at least one (B*T, V) buffer (how many depends on the backend's
      // cross-entropy routine); the chunked path none, or with 'cpu''s default budget one.
      expect(logitsExtra).toBeGreaterThanOrEqual(logitsBuffer);
      expect(chunkedExtra).toBeGreaterThanOrEqual(kept * logitsBuffer);
      expect(chunkedExtra).toBeLessThan(kept * logitsBuffer + logitsBuffer / 8);
      x.dispose();
      m.dispose();
    },
  );
});

describe('linearCrossEntropy paths', () => {
  it('the fused routine (cpu) and the chunked op (cpu-reference) agree, inactive rows skipped', () => {
    const N = 6;
    const C = 4;
    const V = 9;
    const hData = Float32Array.from({ length: N * C }, (_, i) => Math.sin(i * 1.3));
    const wData = Float32Array.from({ length: V * C }, (_, i) => Math.cos(i * 0.7));
    // Rows 1 and 4 are inactive and carry targets outside the vocabulary.
    const tData = Int32Array.from([3, -100, 8, 0, 99, 5]);
    const aData = Float32Array.from([1, 0, 1, 1, 0, 1]);
    const run = (backend: 'cpu' | 'cpu-reference') => {
      const h = tensor(hData, { shape: [N, C], backend }).requireGrad();
      const w = tensor(wData, { shape: [V, C], backend }).requireGrad();
      const t = tensor(tData, { shape: [N], dtype: 'int32', backend });
      const a = tensor(aData, { shape: [N], backend });
      const loss = linearCrossEntropy(h, w, t, a, { chunkRows: 4 });
      loss.sum().backward();
      const out = {
        loss: Array.from(loss.dataSync()),
        dh: Array.from(h.grad!.dataSync()),
        dw: Array.from(w.grad!.dataSync()),
      };
      for (const x of [h, w, t, a, loss]) x.dispose();
      return out;
    };
    const fused = run('cpu');
    const chunked = run('cpu-reference');
    expect(fused.loss[1]).toBe(0);
    expect(fused.loss[4]).toBe(0);
    // Row 0 by hand: logsumexp of its logits minus the target's logit.
    const logits = Array.from({ length: V }, (_, v) =>
      [0, 1, 2, 3].reduce((acc, c) => acc + hData[c] * wData[v * C + c], 0),
    );
    const lse = Math.log(logits.reduce((acc, z) => acc + Math.exp(z), 0));
    expect(fused.loss[0]).toBeCloseTo(lse - logits[3], 5);
    for (const k of ['loss', 'dh', 'dw'] as const) {
      for (let i = 0; i < fused[k].length; i++) expect(fused[k][i]).toBeCloseTo(chunked[k][i], 5);
    }
    expect(fused.dh.slice(C, 2 * C)).toEqual([0, 0, 0, 0]);
  });
});

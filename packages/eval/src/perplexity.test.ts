import { describe, expect, it } from 'vitest';
import type { LanguageModel } from './language-model.js';
import {
  batchFromSequences,
  evaluatePerplexity,
  PerplexityMeter,
  type TokenBatch,
  type TokenScorer,
  textPerplexity,
} from './perplexity.js';
import { PythonRandom } from './python-random.js';

const V = 50257;
/** A model that gives every token probability 1/V. */
const uniform: TokenScorer = {
  targetLogProbs: async (b) => new Float64Array(b.batchSize * b.seqLen).fill(-Math.log(V)),
};

function randomBatches(
  seed: number,
  count: number,
  B: number,
  T: number,
  domains: number,
): TokenBatch[] {
  const rnd = new PythonRandom(seed);
  return Array.from({ length: count }, () => ({
    tokens: Int32Array.from({ length: B * T }, () => rnd.randbelow(V)),
    targets: Int32Array.from({ length: B * T }, () => rnd.randbelow(V)),
    mask: Float32Array.from({ length: B * T }, () => (rnd.random() < 0.9 ? 1 : 0)),
    domainIds: Int32Array.from({ length: B }, (_, b) => (b + rnd.randbelow(2)) % domains),
    batchSize: B,
    seqLen: T,
  }));
}

describe('perplexity', () => {
  it('a uniform model has perplexity equal to the vocabulary size, in every domain', async () => {
    const r = await evaluatePerplexity(uniform, randomBatches(1, 3, 4, 16, 3), {
      domains: ['web', 'code', 'books'],
    });
    expect(r.overall.perplexity).toBeCloseTo(V, 6);
    for (const d of Object.values(r.domains)) expect(d.perplexity).toBeCloseTo(V, 6);
    expect(Object.keys(r.domains).sort()).toEqual(['books', 'code', 'web']);
  });

  it('per-domain numbers add up to the overall ones by token counts', async () => {
    // A scorer whose log-probs depend on the token, so domains differ.
    const scorer: TokenScorer = {
      targetLogProbs: async (b) => Float64Array.from(b.targets, (t) => -1 - (t % 97) / 10),
    };
    const batches = randomBatches(2, 5, 8, 32, 4);
    const r = await evaluatePerplexity(scorer, batches, { tokenBytes: (id) => 1 + (id % 5) });
    const ds = Object.values(r.domains);
    const tokens = ds.reduce((s, d) => s + d.tokens, 0);
    expect(tokens).toBe(r.overall.tokens);
    expect(ds.reduce((s, d) => s + d.loss * d.tokens, 0) / tokens).toBeCloseTo(r.overall.loss, 12);
    const bytes = ds.reduce((s, d) => s + d.bytes!, 0);
    expect(ds.reduce((s, d) => s + d.bitsPerByte! * d.bytes!, 0) / bytes).toBeCloseTo(
      r.overall.bitsPerByte!,
      12,
    );
    // Masked positions are not counted.
    const counted = batches.reduce((s, b) => s + Array.from(b.mask!).reduce((a, m) => a + m, 0), 0);
    expect(r.overall.tokens).toBe(counted);
    // Hand check of one domain: mean over its unmasked targets.
    let n = 0;
    let nll = 0;
    for (const b of batches) {
      for (let i = 0; i < b.batchSize * b.seqLen; i++) {
        if (b.domainIds[Math.floor(i / b.seqLen)] === 0 && b.mask![i] === 1) {
          n++;
          nll += 1 + (b.targets[i] % 97) / 10;
        }
      }
    }
    expect(r.domains['0'].loss).toBeCloseTo(nll / n, 12);
    expect(r.domains['0'].perplexity).toBeCloseTo(Math.exp(nll / n), 9);
  });

  it('bits per byte of a byte-level uniform model is log2(256) = 8', () => {
    const m = new PerplexityMeter({ tokenBytes: (id) => (id < 256 ? 1 : 0) });
    m.addRow(
      0,
      new Float64Array(10).fill(-Math.log(256)),
      Int32Array.from({ length: 10 }, (_, i) => i),
    );
    expect(m.report().overall.bitsPerByte).toBeCloseTo(8, 12);
  });

  it('packs variable-length sequences with a mask; padding rows are skipped', async () => {
    const b = batchFromSequences([Int32Array.of(1, 2, 3, 4), Int32Array.of(5, 6)], [0, 1]);
    expect([b.batchSize, b.seqLen]).toEqual([2, 3]);
    expect(Array.from(b.targets)).toEqual([2, 3, 4, 6, 0, 0]);
    expect(Array.from(b.mask!)).toEqual([1, 1, 1, 1, 0, 0]);
    const r = await evaluatePerplexity(uniform, [b, { ...b, domainIds: Int32Array.of(-1, -1) }]);
    expect(r.overall.tokens).toBe(4);
    expect(r.domains['1'].tokens).toBe(1);
  });

  it('rejects impossible log-probabilities and mismatched shapes', () => {
    const m = new PerplexityMeter();
    expect(() => m.addRow(0, [0.5])).toThrow(/not a finite value <= 0/);
    expect(() => m.addRow(-1, [-1])).toThrow(/domain id/);
    const b = batchFromSequences([Int32Array.of(1, 2)], [0]);
    expect(() => m.addBatch(b, [-1, -1])).toThrow(/expected 1x1=1/);
  });

  it('text perplexity follows lm-eval (word and byte perplexity, bits per byte)', async () => {
    const model: LanguageModel = {
      loglikelihood: async () => [],
      loglikelihoodRolling: async (texts) => texts.map((t) => -Buffer.byteLength(t) * Math.LN2),
    };
    const r = await textPerplexity(model, ['one two three', 'é']);
    expect(r.bits_per_byte).toBeCloseTo(1, 12);
    expect(r.byte_perplexity).toBeCloseTo(2, 12);
    expect(r.word_perplexity).toBeCloseTo(Math.exp((15 * Math.LN2) / 4), 9);
  });
});

import { type Batch, createTokenizer, type Tokenizer } from '@lrw/data';
import { describe, expect, it } from 'vitest';
import { evaluatePerplexity, type TokenBatch, textPerplexity } from './perplexity.js';
import { type CausalScorer, type TextEncoder, TokenLanguageModel } from './token-language-model.js';

// @lrw/data's stream batches and tokenizers plug in without adapters (checked by the compiler).
const asTokenBatch = (b: Batch): TokenBatch => b;
const asEncoder = (t: Tokenizer): TextEncoder => t;

function uniformScorer(vocab: number, maxLength = 1024): CausalScorer {
  return {
    maxLength,
    scoreRows: async (rows) =>
      rows.map((r) => ({
        logprobs: Array.from(r.targets, () => -Math.log(vocab)),
        greedy: Array.from(r.targets, () => false),
      })),
  };
}

describe('with @lrw/data tokenizers', () => {
  it('byte tokenizer + uniform model: byte perplexity equals the vocabulary size (257)', async () => {
    const tok = await createTokenizer('byte');
    const lm = new TokenLanguageModel(asEncoder(tok), uniformScorer(tok.vocabSize, 16));
    const r = await textPerplexity(lm, [
      'Hello, world. ',
      'Ünïcödé text spans several windows of sixteen bytes.',
    ]);
    expect(tok.vocabSize).toBe(257);
    expect(r.byte_perplexity).toBeCloseTo(257, 9);
    expect(r.bits_per_byte).toBeCloseTo(Math.log2(257), 12);
  });

  it('GPT-2 BPE: the trailing-space rule gives the continuation token " yes"', async () => {
    const tok = await createTokenizer('gpt2');
    const lm = new TokenLanguageModel(tok, uniformScorer(tok.vocabSize));
    const pair = lm.encodePair('Question: is it?\nAnswer: ', 'yes');
    expect(tok.decode(pair.continuation)).toBe(' yes');
    expect(pair.continuation).toEqual(Array.from(tok.encode(' yes')));
  });

  it('a stream-shaped batch feeds evaluatePerplexity', async () => {
    const batch = {
      tokens: Int32Array.of(1, 2, 3, 4),
      targets: Int32Array.of(2, 3, 4, 5),
      mask: Float32Array.of(1, 1, 1, 0),
      domainIds: Int32Array.of(0, 1),
      sampleIds: Float64Array.of(0, 1),
      batchSize: 2,
      seqLen: 2,
      rows: 2,
      step: 0,
    } satisfies Batch;
    const r = await evaluatePerplexity(
      {
        targetLogProbs: async (b) => new Float64Array(b.batchSize * b.seqLen).fill(-Math.log(257)),
      },
      [asTokenBatch(batch)],
      { domains: ['books', 'code'], tokenBytes: () => 1 },
    );
    expect(r.overall.tokens).toBe(3);
    expect(r.domains.code.tokens).toBe(1);
    expect(r.overall.perplexity).toBeCloseTo(257, 9);
  });
});

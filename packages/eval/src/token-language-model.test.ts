import { describe, expect, it } from 'vitest';
import { type CausalScorer, TokenLanguageModel } from './token-language-model.js';

// A character tokenizer (ids = code units + 1, 0 = end of text) and a bigram "model":
// log p(next | window) depends only on the previous token, so sums are easy to check by hand.
const tokenizer = { eotId: 0, encode: (s: string) => Array.from(s, (c) => c.charCodeAt(0) + 1) };
const bigram = (prev: number, next: number) => -1 - ((prev * 31 + next) % 7) / 10;

function scorer(maxLength: number, seen: number[][] = []): CausalScorer {
  return {
    maxLength,
    scoreRows: async (rows) =>
      rows.map((r) => {
        if (r.tokens.length > maxLength) throw new Error('row longer than the window');
        seen.push(Array.from(r.tokens));
        return {
          logprobs: Array.from(r.positions, (p, k) => bigram(r.tokens[p], r.targets[k])),
          greedy: Array.from(r.targets, (t) => t % 2 === 0),
        };
      }),
  };
}

function expectedLl(context: string, continuation: string): number {
  const ids = [0, ...tokenizer.encode(context + continuation)];
  let s = 0;
  for (let i = ids.length - continuation.length; i < ids.length; i++)
    s += bigram(ids[i - 1], ids[i]);
  return s;
}

describe('TokenLanguageModel (lm-eval tokenization rules over a causal scorer)', () => {
  it('scores continuations given contexts, moving trailing spaces to the continuation', async () => {
    const lm = new TokenLanguageModel(tokenizer, scorer(100));
    const [a, b] = await lm.loglikelihood([
      { context: 'Question: x\nAnswer:', continuation: ' yes' },
      { context: 'ctx ', continuation: 'word' },
    ]);
    expect(a.logprob).toBeCloseTo(expectedLl('Question: x\nAnswer:', ' yes'), 12);
    // "ctx " + "word" is scored as "ctx" + " word": five tokens.
    expect(b.logprob).toBeCloseTo(expectedLl('ctx', ' word'), 12);
    expect(lm.encodePair('ctx ', 'word')).toEqual({
      context: tokenizer.encode('ctx'),
      continuation: tokenizer.encode(' word'),
    });
    expect(lm.encodePair('', 'hi').context).toEqual([0]);
  });

  it('cuts the input from the left to the model window', async () => {
    const seen: number[][] = [];
    const lm = new TokenLanguageModel(tokenizer, scorer(8, seen));
    const [r] = await lm.loglikelihood([{ context: 'a long context here', continuation: ' end' }]);
    expect(seen[0]).toEqual(tokenizer.encode('a long context here end').slice(-9, -1));
    expect(r.logprob).toBeCloseTo(expectedLl('a long context here', ' end'), 12);
    await expect(
      lm.loglikelihood([{ context: 'x', continuation: 'much too long' }]),
    ).rejects.toThrow(/longer than the model's context of 8 tokens/);
  });

  it('shares one forward pass among choices with the same model input', async () => {
    const lm = new TokenLanguageModel(tokenizer, scorer(64));
    const reqs = ['A', 'B', 'C', 'D'].map((c) => ({ context: 'Pick one:', continuation: c }));
    const out = await lm.loglikelihood([...reqs, { context: 'Other', continuation: ' xy' }]);
    expect(lm.rowsScored).toBe(2);
    for (let i = 0; i < 4; i++) {
      expect(out[i].logprob).toBeCloseTo(expectedLl('Pick one:', reqs[i].continuation), 12);
    }
    expect(out.map((r) => r.greedy)).toEqual(
      ['A', 'B', 'C', 'D', ' xy'].map((c) => tokenizer.encode(c).every((t) => t % 2 === 0)),
    );
  });

  it('rolling log-likelihood covers every token once with disjoint windows', async () => {
    const seen: number[][] = [];
    const text = 'abcdefghijklmnopqrstuvw';
    const lm = new TokenLanguageModel(tokenizer, scorer(5, seen));
    const [ll] = await lm.loglikelihoodRolling([text]);
    expect(ll).toBeCloseTo(expectedLl('', text), 12);
    expect(seen.length).toBe(Math.ceil(text.length / 5));
    expect(await lm.loglikelihoodRolling([''])).toEqual([0]);
  });
});

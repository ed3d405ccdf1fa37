import { describe, expect, it } from 'vitest';
import { createTokenizer, tokenBytesFor } from './tokenizer.js';

describe('GPT-2 tokenizer', () => {
  it("gives the ids of tiktoken's own tests (openai/tiktoken tests/test_encoding.py)", async () => {
    const t = await createTokenizer('gpt2');
    expect(t.vocabSize).toBe(50257);
    expect(t.eotId).toBe(50256);
    // test_simple and test_simple_repeated for the "gpt2" encoding.
    expect(Array.from(t.encode('hello world'))).toEqual([31373, 995]);
    expect(t.decode([31373, 995])).toBe('hello world');
    const zeros: [string, number[]][] = [
      ['0', [15]],
      ['00', [405]],
      ['000', [830]],
      ['0000', [2388]],
      ['00000', [20483]],
      ['000000', [10535]],
      ['0000000', [24598]],
      ['00000000', [8269]],
      ['000000000', [10535, 830]],
      ['0000000000000000', [25645]],
      ['00000000000000000', [8269, 10535, 830]],
    ];
    for (const [text, ids] of zeros) expect(Array.from(t.encode(text))).toEqual(ids);
    expect(Array.from(t.encode(''))).toEqual([]);
  });

  it('encodes special-token text as ordinary text (encode_ordinary) and decodes eot', async () => {
    const t = await createTokenizer('gpt2');
    const ids = Array.from(t.encode('hello <|endoftext|>'));
    expect(ids).not.toContain(50256);
    expect(t.decode(ids)).toBe('hello <|endoftext|>');
    expect(t.decode([31373, 220, 50256])).toBe('hello <|endoftext|>');
  });

  it('round-trips Unicode text', async () => {
    const t = await createTokenizer('gpt2');
    for (const text of ['请考试我的软件！12345', ' héllo  wörld\n\n', 'emoji 👍 ok']) {
      expect(t.decode(t.encode(text))).toBe(text);
    }
  });
});

describe('byte tokenizer', () => {
  it('uses UTF-8 bytes as ids with end-of-text 256', async () => {
    const t = await createTokenizer('byte');
    expect(t.vocabSize).toBe(257);
    expect(t.eotId).toBe(256);
    expect(Array.from(t.encode('hé'))).toEqual([104, 0xc3, 0xa9]);
    expect(t.decode([104, 0xc3, 0xa9, 256, 33])).toBe('hé<|endoftext|>!');
    expect(() => t.decode([300])).toThrow(/outside 0..256/);
  });

  it('stores ids as uint16 up to 65536 and as uint32 above', () => {
    expect(tokenBytesFor(257)).toBe(2);
    expect(tokenBytesFor(50257)).toBe(2);
    expect(tokenBytesFor(65536)).toBe(2);
    expect(tokenBytesFor(128256)).toBe(4);
  });

  it('rejects an unknown tokenizer with the accepted values', async () => {
    await expect(createTokenizer('llama' as 'gpt2')).rejects.toThrow(/'gpt2', 'byte'/);
  });
});

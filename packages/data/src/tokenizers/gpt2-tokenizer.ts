import type { Tokenizer } from './tokenizer.js';

// GPT-2's byte-level BPE through gpt-tokenizer's "gpt2" encoding (the r50k_base merge table),
// whose ids match OpenAI's tiktoken (checked against tiktoken's own tests in the unit tests).
// Loaded with a dynamic import: the merge table is a few MB of JavaScript that byte-level
// users should not pay for.
const NO_SPECIALS = { disallowedSpecial: new Set<string>() };

export async function createGpt2Tokenizer(): Promise<Tokenizer> {
  const gpt2 = await import('gpt-tokenizer/encoding/gpt2');
  return {
    name: 'gpt2',
    vocabSize: 50257,
    eotId: 50256,
    encode: (text) => gpt2.encode(text, NO_SPECIALS),
    decode: (ids) => gpt2.decode(Array.from(ids)),
  };
}

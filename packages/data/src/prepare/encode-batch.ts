import type { Tokenizer } from '../tokenizers/tokenizer.js';

/** Tokens of several documents: all ids concatenated, and each document's length. */
export interface EncodedBatch {
  tokens: Uint32Array;
  lengths: Uint32Array;
}

export function encodeBatch(tokenizer: Tokenizer, texts: readonly string[]): EncodedBatch {
  const parts = texts.map((text) => tokenizer.encode(text));
  const lengths = new Uint32Array(parts.length);
  let total = 0;
  for (let i = 0; i < parts.length; i++) total += lengths[i] = parts[i].length;
  const tokens = new Uint32Array(total);
  let at = 0;
  for (const part of parts) {
    if (ArrayBuffer.isView(part)) tokens.set(part as Uint8Array, at);
    else for (let j = 0; j < part.length; j++) tokens[at + j] = part[j];
    at += part.length;
  }
  return { tokens, lengths };
}

import { invalidOption } from '../errors.js';
import { createByteTokenizer } from './byte-tokenizer.js';
import { createGpt2Tokenizer } from './gpt2-tokenizer.js';

/**
 * One interface for every tokenizer. `encode` is "ordinary" encoding (tiktoken's
 * encode_ordinary): special-token text such as "<|endoftext|>" inside a document is encoded as
 * plain text, so a corpus can never inject a control token. The end-of-text id is added
 * between documents by the shard writer and the stream, never by `encode`.
 */
export interface Tokenizer {
  /** Stable name recorded in the dataset index, e.g. 'gpt2' or 'byte'. */
  readonly name: string;
  /** Number of ids (ids are 0..vocabSize-1). */
  readonly vocabSize: number;
  /** The end-of-text id placed between documents. */
  readonly eotId: number;
  encode(text: string): ArrayLike<number>;
  /** Text of the ids; the end-of-text id decodes as "<|endoftext|>". */
  decode(ids: ArrayLike<number>): string;
}

/**
 * Which tokenizer to use: 'gpt2' (GPT-2 BPE, ids identical to tiktoken's "gpt2"), 'byte'
 * (UTF-8 bytes 0..255 plus end-of-text 256), or a module whose export (default: `default`)
 * is a factory `(options) => Tokenizer | Promise<Tokenizer>` (e.g. a Llama SentencePiece
 * tokenizer); module specifiers must be absolute paths, file URLs or package names because
 * prepare() loads them inside worker threads too.
 */
export type TokenizerSpec =
  | 'gpt2'
  | 'byte'
  | { module: string; export?: string; options?: unknown; name?: string };

export { END_OF_TEXT } from './end-of-text.js';

/** Creates the tokenizer of a spec (loading GPT-2's merge table on first use). */
export async function createTokenizer(spec: TokenizerSpec = 'gpt2'): Promise<Tokenizer> {
  if (spec === 'gpt2') return createGpt2Tokenizer();
  if (spec === 'byte') return createByteTokenizer();
  if (typeof spec === 'object' && spec !== null && typeof spec.module === 'string') {
    const mod = (await import(spec.module)) as Record<string, unknown>;
    const factory = mod[spec.export ?? 'default'];
    if (typeof factory !== 'function') {
      throw invalidOption(
        'tokenizer.export',
        spec.export ?? 'default',
        `a factory function exported by ${spec.module}`,
      );
    }
    const tokenizer = (await factory(spec.options)) as Tokenizer;
    checkTokenizer(tokenizer, spec.module);
    return tokenizer;
  }
  throw invalidOption('tokenizer', spec, "'gpt2', 'byte' or { module, export?, options? }");
}

function checkTokenizer(t: Tokenizer, where: string): void {
  const ok =
    t &&
    typeof t.encode === 'function' &&
    typeof t.decode === 'function' &&
    Number.isInteger(t.vocabSize) &&
    Number.isInteger(t.eotId) &&
    t.eotId >= 0 &&
    t.eotId < t.vocabSize &&
    typeof t.name === 'string';
  if (!ok) {
    throw invalidOption(
      'tokenizer',
      where,
      'a Tokenizer { name, vocabSize, eotId (< vocabSize), encode, decode }',
    );
  }
}

/** Bytes per stored token: 2 (uint16) when every id fits, else 4 (uint32). */
export function tokenBytesFor(vocabSize: number): 2 | 4 {
  return vocabSize <= 65536 ? 2 : 4;
}

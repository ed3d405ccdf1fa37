import { END_OF_TEXT } from './end-of-text.js';
import type { Tokenizer } from './tokenizer.js';

// Byte-level tokenizer for tiny runs: the UTF-8 bytes of the text are the ids (0..255) and
// 256 is end-of-text, so the vocabulary is 257 and any text round-trips exactly.
const EOT = 256;
const encoder = new TextEncoder();

export function createByteTokenizer(): Tokenizer {
  return {
    name: 'byte',
    vocabSize: 257,
    eotId: EOT,
    encode: (text) => encoder.encode(text),
    decode: (ids) => {
      let out = '';
      let run: number[] = [];
      const flush = (): void => {
        if (run.length > 0) out += Buffer.from(run).toString('utf8');
        run = [];
      };
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (id === EOT) {
          flush();
          out += END_OF_TEXT;
        } else if (id >= 0 && id < 256) {
          run.push(id);
        } else {
          throw new RangeError(`byte tokenizer: id ${id} at position ${i} is outside 0..256`);
        }
      }
      flush();
      return out;
    },
  };
}

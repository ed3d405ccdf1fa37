/**
 * The end-of-text marker every tokenizer decodes its end-of-text id to. A module of its own so
 * that tokenizer.ts (which imports each tokenizer) and the tokenizers (which use the marker) do
 * not import each other.
 */
export const END_OF_TEXT = '<|endoftext|>';

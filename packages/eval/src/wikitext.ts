/**
 * lm-eval's wikitext task functions (lm_eval/tasks/wikitext/preprocess_wikitext.py): the model
 * scores the detokenized page, while words and bytes are counted on the raw page, so
 * `word_perplexity` is comparable with numbers reported on the tokenized WikiText.
 *
 * Python's `str.replace` is JavaScript's `replaceAll`; `re.sub` patterns are translated with
 * Python's `\s` (python-whitespace.ts) and run with the `u` flag (code points, as Python).
 */
import { TaskConfigError } from './errors.js';
import { PY_SPACE, pyWordCount } from './python-whitespace.js';
import type { Doc } from './task-functions.js';

const S = PY_SPACE;
/** Bracket pairs whose inner whitespace is removed: `( x )` to `(x)`. */
const BRACKETS: [RegExp, string][] = [
  [new RegExp(`\\(${S}*([^\\)]*?)${S}*\\)`, 'gu'), '($1)'],
  [new RegExp(`\\[${S}*([^\\]]*?)${S}*\\]`, 'gu'), '[$1]'],
  [new RegExp(`\\{${S}*([^\\}]*?)${S}*\\}`, 'gu'), '{$1}'],
  [new RegExp(`"${S}*([^"]*?)${S}*"`, 'gu'), '"$1"'],
  [new RegExp(`'${S}*([^']*?)${S}*'`, 'gu'), "'$1'"],
];

function page(doc: Doc): string {
  const p = doc.page;
  if (typeof p !== 'string') {
    throw new TaskConfigError(
      `wikitext: document field 'page' must be a string, got ${JSON.stringify(p)}`,
    );
  }
  return p;
}

/** `wikitext_detokenizer(doc)`: the text the model scores. */
export function wikitextDetokenize(doc: Doc): string {
  let s = page(doc);
  // contractions
  s = s.replaceAll("s '", "s'");
  // lm-eval's pattern and replacement are both literal text here (`/' 5/` becomes `/'[0-9]/`).
  s = s.replace(/\/' [0-9]\//gu, "/'[0-9]/");
  // number separators
  s = s.replaceAll(' @-@ ', '-').replaceAll(' @,@ ', ',').replaceAll(' @.@ ', '.');
  // punctuation
  for (const p of [':', ';', '.', '!', '?', ',']) s = s.replaceAll(` ${p} `, `${p} `);
  // double brackets
  for (const [re, to] of BRACKETS) s = s.replace(re, to);
  // miscellaneous
  s = s.replaceAll('= = = =', '====').replaceAll('= = =', '===').replaceAll('= =', '==');
  s = s.replaceAll(' \u00b0 ', '\u00b0');
  s = s.replaceAll(' \n', '\n').replaceAll('\n ', '\n');
  s = s.replaceAll(' N ', ' 1 ');
  return s.replaceAll(" 's", "'s");
}

/** `process_results(doc, results)`: words and UTF-8 bytes of the raw page, not the scored text. */
export function wikitextProcessResults(doc: Doc, results: number[]): Record<string, unknown> {
  const [loglikelihood] = results;
  const raw = page(doc);
  const words = pyWordCount(raw);
  const bytes = Buffer.byteLength(raw, 'utf8');
  return {
    word_perplexity: [loglikelihood, words],
    byte_perplexity: [loglikelihood, bytes],
    bits_per_byte: [loglikelihood, bytes],
  };
}

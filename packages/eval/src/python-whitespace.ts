/**
 * Python's idea of whitespace (`str.isspace()`, `str.strip()`, `str.split()` and `re`'s `\s`
 * on str patterns), which is not JavaScript's: Python counts U+001C-U+001F and U+0085 as
 * whitespace, JavaScript's `\s` and `trim()` do not; JavaScript counts U+FEFF, Python does not.
 * lm-eval's word counts (`len(re.split(r"\s+", doc))`), its context trimming (`rstrip()`) and
 * the task utilities' `strip()` all use Python's set.
 */

/** Every code point Python 3.11 treats as whitespace (fixtures/python-whitespace.json). */
export const PY_WHITESPACE =
  '\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** A regex character class of `PY_WHITESPACE`, for `re`'s `\s` in translated patterns. */
export const PY_SPACE =
  '[\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

const RUNS = new RegExp(`${PY_SPACE}+`, 'u');
const LEADING = new RegExp(`^${PY_SPACE}+`, 'u');
const TRAILING = new RegExp(`${PY_SPACE}+$`, 'u');

/** Python `s.strip()` (no argument). */
export function pyStrip(s: string): string {
  return s.replace(LEADING, '').replace(TRAILING, '');
}

/** Python `s.rstrip()` (no argument). */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING, '');
}

/** `len(re.split(r"\s+", s))`: lm-eval's word count for word perplexity. */
export function pyWordCount(s: string): number {
  return s.split(RUNS).length;
}

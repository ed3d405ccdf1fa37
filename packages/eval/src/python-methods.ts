/**
 * Python's string, list and dict methods, for templates written against Jinja2 where
 * `{{ support.lstrip() }}` or `{{ choices.label.index(answerKey) }}` call Python methods on
 * the document's values. Only methods whose Python meaning is unambiguous are provided.
 */

import { EvaluationError } from './errors.js';
import { PY_WHITESPACE } from './python-whitespace.js';

/** A Python-level error (ValueError, AttributeError...) raised inside a template. */
export class PythonMethodError extends EvaluationError {
  override name = 'PythonMethodError';
  constructor(message: string) {
    super('PYTHON_VALUE', message);
  }
}

const WHITESPACE = PY_WHITESPACE;

function stripChars(s: string, chars: string | undefined | null, left: boolean, right: boolean) {
  const set = chars == null ? WHITESPACE : chars;
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  if (left) while (a < b && set.includes(cps[a])) a++;
  if (right) while (b > a && set.includes(cps[b - 1])) b--;
  return cps.slice(a, b).join('');
}

/** Python's `str.capitalize()`: first character upper case, the rest lower case. */
export function pyCapitalize(s: string): string {
  const cps = Array.from(s);
  if (cps.length === 0) return s;
  return cps[0].toUpperCase() + cps.slice(1).join('').toLowerCase();
}

function pySplit(s: string, sep?: string | null, maxsplit = -1): string[] {
  if (sep == null) {
    // Python splits on runs of str.isspace() characters; after maxsplit parts the rest
    // (leading whitespace removed, trailing kept) is the last part.
    const cps = Array.from(s);
    const isSpace = (c: string) => WHITESPACE.includes(c);
    const out: string[] = [];
    let i = 0;
    for (;;) {
      while (i < cps.length && isSpace(cps[i])) i++;
      if (i >= cps.length) return out;
      if (maxsplit >= 0 && out.length === maxsplit) {
        out.push(cps.slice(i).join(''));
        return out;
      }
      let j = i;
      while (j < cps.length && !isSpace(cps[j])) j++;
      out.push(cps.slice(i, j).join(''));
      i = j;
    }
  }
  if (sep === '') throw new PythonMethodError('ValueError: empty separator');
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

type Method = (self: never, ...args: never[]) => unknown;

const STRING_METHODS: Record<string, (self: string, ...args: never[]) => unknown> = {
  strip: (s, chars?: string) => stripChars(s, chars, true, true),
  lstrip: (s, chars?: string) => stripChars(s, chars, true, false),
  rstrip: (s, chars?: string) => stripChars(s, chars, false, true),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  capitalize: (s) => pyCapitalize(s),
  title: (s) =>
    s.toLowerCase().replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_, a, b) => a + b.toUpperCase()),
  replace: (s, old: string, rep: string, count?: number) => {
    if (count == null || count < 0) return s.split(old).join(rep);
    const parts = s.split(old);
    return (
      parts.slice(0, count + 1).join(rep) +
      (parts.length > count + 1 ? old + parts.slice(count + 1).join(old) : '')
    );
  },
  split: (s, sep?: string | null, maxsplit?: number) => pySplit(s, sep, maxsplit ?? -1),
  startswith: (s, prefix: string) => s.startsWith(prefix),
  endswith: (s, suffix: string) => s.endsWith(suffix),
  find: (s, sub: string) => codePointIndex(s, s.indexOf(sub)),
  index: (s, sub: string) => {
    const i = s.indexOf(sub);
    if (i < 0)
      throw new PythonMethodError(`ValueError: substring ${JSON.stringify(sub)} not found`);
    return codePointIndex(s, i);
  },
  count: (s, sub: string) => s.split(sub).length - 1,
  join: (s, items: string[]) => items.join(s),
  isdigit: (s) => /^\p{Nd}+$/u.test(s),
};

function codePointIndex(s: string, utf16Index: number): number {
  return utf16Index < 0 ? -1 : Array.from(s.slice(0, utf16Index)).length;
}

const LIST_METHODS: Record<string, (self: unknown[], ...args: never[]) => unknown> = {
  index: (list, item: unknown) => {
    const i = list.findIndex((x) => pyEquals(x, item));
    if (i < 0) {
      throw new PythonMethodError(
        `ValueError: ${JSON.stringify(item)} is not in list ${JSON.stringify(list)}`,
      );
    }
    return i;
  },
  count: (list, item: unknown) => list.filter((x) => pyEquals(x, item)).length,
};

const DICT_METHODS: Record<string, (self: Record<string, unknown>, ...args: never[]) => unknown> = {
  get: (d, key: string, fallback?: unknown) => (key in d ? d[key] : (fallback ?? null)),
  keys: (d) => Object.keys(d),
  values: (d) => Object.values(d),
  items: (d) => Object.entries(d),
};

/** Python `==` on JSON-like values (deep, with 1 == 1.0 and True == 1 as in Python). */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  }
  if (
    a &&
    b &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every(
        (k) =>
          k in (b as object) &&
          pyEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return false;
}

/** Calls the Python method `name` on `self` (a string, list or dict). */
export function callPythonMethod(self: unknown, name: string, args: unknown[]): unknown {
  let table: Record<string, Method> | undefined;
  let kind: string;
  if (typeof self === 'string') {
    table = STRING_METHODS as Record<string, Method>;
    kind = 'str';
  } else if (Array.isArray(self)) {
    table = LIST_METHODS as Record<string, Method>;
    kind = 'list';
  } else if (self !== null && typeof self === 'object') {
    table = DICT_METHODS as Record<string, Method>;
    kind = 'dict';
  } else {
    kind = self === null ? 'NoneType' : self === undefined ? 'undefined' : typeof self;
  }
  const method = table && Object.hasOwn(table, name) ? table[name] : undefined;
  if (!method) {
    const known = table ? Object.keys(table).join(', ') : 'none';
    throw new PythonMethodError(
      `'${kind}' object has no supported method '${name}' (supported for ${kind}: ${known})`,
    );
  }
  return (method as (self: unknown, ...a: unknown[]) => unknown)(self, ...args);
}

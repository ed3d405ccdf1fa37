/**
 * Python's `str()`/`repr()` for JSON-like values and a small `ast.literal_eval`.
 * lm-eval renders templates with Jinja2, whose `{{ x }}` prints `str(x)`, and then parses
 * choice lists back with `ast.literal_eval`: `"{{[sol1, sol2]}}"` becomes
 * `"['a', 'b']"` and then `['a', 'b']`. We reproduce both halves so such templates behave
 * the same.
 */
import { EvaluationError } from './errors.js';

/** A JSON-like value as documents hold them (Python's str/int/float/bool/None/list/dict). */
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Python `repr()` of a value. Strings use Python's quote choice and escapes. */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return reprString(value);
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return reprNumber(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object' && value !== undefined) {
    const items = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${reprString(k)}: ${pyRepr(v)}`,
    );
    return `{${items.join(', ')}}`;
  }
  throw new TypeError(`pyRepr: cannot represent a value of type ${typeof value}`);
}

/** Python `str()`: strings as they are, everything else as `repr()`. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

function reprNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return String(x);
}

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Error raised when a rendered template is not a Python literal. */
export class PythonLiteralError extends EvaluationError {
  override name = 'PythonLiteralError';
  constructor(message: string) {
    super('PYTHON_VALUE', message);
  }
}

/**
 * `ast.literal_eval` for strings, numbers, True/False/None, lists, tuples (as arrays) and
 * dicts. Anything else throws a {@link PythonLiteralError} naming the position.
 */
export function literalEval(source: string): PyValue {
  const p = new LiteralParser(source);
  p.skipSpace();
  const value = p.parseValue();
  p.skipSpace();
  if (!p.atEnd()) p.fail('unexpected trailing text');
  return value;
}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  fail(why: string): never {
    const excerpt = this.s.length > 80 ? `${this.s.slice(0, 77)}...` : this.s;
    throw new PythonLiteralError(
      `not a Python literal (${why} at offset ${this.i}): ${JSON.stringify(excerpt)}`,
    );
  }

  skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  parseValue(): PyValue {
    const c = this.s[this.i];
    if (c === '[' || c === '(') return this.parseSequence(c === '[' ? ']' : ')');
    if (c === '{') return this.parseDict();
    if (c === "'" || c === '"') return this.parseStringConcat();
    if (/[rRuUbB]/.test(c ?? '') && /['"]/.test(this.s[this.i + 1] ?? '')) {
      return this.parseStringConcat();
    }
    const word = /^(True|False|None)\b/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : null;
    }
    const num = /^[-+]?(\d[\d_]*\.?[\d_]*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?)/i.exec(
      this.s.slice(this.i),
    );
    if (num) {
      this.i += num[0].length;
      return Number(num[0].replaceAll('_', ''));
    }
    return this.fail('expected a value');
  }

  private parseSequence(close: string): PyValue[] {
    this.i++;
    const items: PyValue[] = [];
    this.skipSpace();
    while (this.s[this.i] !== close) {
      items.push(this.parseValue());
      this.skipSpace();
      if (this.s[this.i] === ',') {
        this.i++;
        this.skipSpace();
      } else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
    this.i++;
    return items;
  }

  private parseDict(): PyValue {
    this.i++;
    const out: Record<string, PyValue> = {};
    this.skipSpace();
    while (this.s[this.i] !== '}') {
      const key = this.parseValue();
      this.skipSpace();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.skipSpace();
      out[String(key)] = this.parseValue();
      this.skipSpace();
      if (this.s[this.i] === ',') {
        this.i++;
        this.skipSpace();
      } else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
    this.i++;
    return out;
  }

  /** Adjacent string literals concatenate, as in Python. */
  private parseStringConcat(): string {
    let out = this.parseString();
    for (;;) {
      const save = this.i;
      this.skipSpace();
      const c = this.s[this.i];
      if (c === "'" || c === '"') out += this.parseString();
      else {
        this.i = save;
        return out;
      }
    }
  }

  private parseString(): string {
    let raw = false;
    while (/[rRuUbB]/.test(this.s[this.i])) {
      if (/[rR]/.test(this.s[this.i])) raw = true;
      this.i++;
    }
    const q = this.s[this.i];
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const end = triple ? q.repeat(3) : q;
    this.i += end.length;
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail('unterminated string');
      if (this.s.startsWith(end, this.i)) {
        this.i += end.length;
        return out;
      }
      const c = this.s[this.i++];
      if (c !== '\\' || raw) {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        '\\': '\\',
        "'": "'",
        '"': '"',
        a: '\x07',
        b: '\b',
        f: '\f',
        v: '\v',
        '0': '\0',
        '\n': '',
      };
      if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = this.s.slice(this.i, this.i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail(`bad \\${e} escape`);
        out += String.fromCodePoint(Number.parseInt(hex, 16));
        this.i += len;
      } else if (e in simple) out += simple[e];
      else out += `\\${e}`;
    }
  }
}

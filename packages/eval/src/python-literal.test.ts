import { describe, expect, it } from 'vitest';
import { literalEval, PythonLiteralError, pyRepr, pyStr } from './python-literal.js';

describe('pyRepr / pyStr', () => {
  it('prints like CPython', () => {
    // Expected strings are CPython 3.11 outputs of repr()/str() on the same values.
    expect(pyRepr(['a', "it's", 'say "hi"', 'both \' "'])).toBe(
      `['a', "it's", 'say "hi"', 'both \\' "']`,
    );
    expect(pyRepr([1, 2.5, true, false, null])).toBe('[1, 2.5, True, False, None]');
    expect(pyRepr({ a: [1], b: 'x\ny' })).toBe("{'a': [1], 'b': 'x\\ny'}");
    expect(pyStr('plain')).toBe('plain');
    expect(pyStr(3)).toBe('3');
  });
});

describe('literalEval', () => {
  it('round-trips every repr, including quotes, escapes and non-ASCII', () => {
    const values = [
      ['finish, woodgrain with  bobby pin ', "it's", 'a\\b', 'tab\tnew\nline', 'é — 中文 \u0001'],
      [1, -2, 3.25, true, false, null, []],
      { k: ['v', { n: 1 }] },
    ];
    for (const v of values) expect(literalEval(pyRepr(v))).toEqual(v);
  });
  it('reads Python spellings: tuples, adjacent strings, unicode escapes', () => {
    expect(literalEval("('a', 'b' 'c', \"\\u00e9\")")).toEqual(['a', 'bc', 'é']);
    expect(literalEval(' 42 ')).toBe(42);
  });
  it('rejects what is not a literal, saying where', () => {
    expect(() => literalEval('[a, b]')).toThrow(PythonLiteralError);
    expect(() => literalEval("['a'")).toThrow(/offset/);
  });
});

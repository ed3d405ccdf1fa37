import { describe, expect, it } from 'vitest';
import { applyTemplate, TemplateError } from './jinja-template.js';

// Expected outputs are what Jinja2 3.1 (lm-eval's engine, with StrictUndefined and
// keep_trailing_newline) prints for the same template and document.
describe('applyTemplate (Jinja2 semantics on nunjucks)', () => {
  it('prints lists the way Python does (for ast.literal_eval)', () => {
    expect(applyTemplate('{{[sol1, sol2]}}', { sol1: "it's", sol2: 'b ' })).toBe(`["it's", 'b ']`);
    expect(applyTemplate('{{choices.text}}', { choices: { text: ['x', 'y'] } })).toBe("['x', 'y']");
    expect(applyTemplate('{{ flag }} {{ none }}', { flag: true, none: null })).toBe('True None');
  });
  it('supplies Python string and list methods', () => {
    const doc = { support: '\n  text ', choices: { label: ['A', 'B', 'C'] }, answerKey: 'C' };
    expect(applyTemplate('{{support.lstrip()}}\nQuestion:', doc)).toBe('text \nQuestion:');
    expect(applyTemplate('{{choices.label.index(answerKey)}}', doc)).toBe('2');
    expect(applyTemplate('{{ answerKey.lower().strip() }}', doc)).toBe('c');
    expect(applyTemplate("{{ 'a,b'.split(',') }}", doc)).toBe("['a', 'b']");
  });
  it('supports filters, arithmetic, conditionals, True/False and keeps trailing newlines', () => {
    expect(applyTemplate('{{ (label|int) - 1 }}', { label: '3' })).toBe('2');
    expect(applyTemplate('{{ "y" if x else "n" }}{{ True }}\n', { x: false })).toBe('nTrue\n');
    expect(
      applyTemplate('{% for c in cs %}{{ loop.index0 }}={{ c }};{% endfor %}', { cs: ['a', 'b'] }),
    ).toBe('0=a;1=b;');
    expect(applyTemplate('<{{ t }}>', { t: 'a & b' })).toBe('<a & b>');
  });
  it('fails clearly on undefined fields and unknown methods', () => {
    expect(() => applyTemplate('{{ nope }}', { goal: 'x' })).toThrow(
      /undefined.*document fields: goal/,
    );
    expect(() => applyTemplate('{{ goal.frobnicate() }}', { goal: 'x' })).toThrow(
      /no supported method 'frobnicate'/,
    );
    expect(() => applyTemplate('{{ x.index("z") }}', { x: 'abc' })).toThrow(/ValueError/);
    expect(() => applyTemplate('{{ [ }}', {})).toThrow(TemplateError);
    expect(() => applyTemplate('{{ x[1:] }}', { x: 'abc' })).toThrow(/slices .* not supported/);
  });
});

describe('Python string methods', () => {
  it('split like CPython (whitespace runs, maxsplit keeps the tail)', () => {
    // CPython: ' a b  c '.split() == ['a', 'b', 'c']; .split(None, 1) == ['a', 'b  c ']
    expect(applyTemplate('{{ s.split() }}', { s: ' a b  c ' })).toBe("['a', 'b', 'c']");
    expect(applyTemplate('{{ s.split(None, 1) }}', { s: ' a b  c ' })).toBe("['a', 'b  c ']");
    expect(applyTemplate("{{ s.split(',', 1) }}", { s: 'x,y,z' })).toBe("['x', 'y,z']");
    expect(applyTemplate('{{ s.capitalize() }}|{{ s.title() }}', { s: 'hello WORLD' })).toBe(
      'Hello world|Hello World',
    );
    expect(applyTemplate("{{ s.strip('x') }}{{ s.replace('x', 'y', 1) }}", { s: 'xaxx' })).toBe(
      'ayaxx',
    );
  });
});

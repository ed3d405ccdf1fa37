import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codePointLength } from './metrics.js';
import { pyEquals } from './python-methods.js';
import { loadTask } from './task.js';

// Committed excerpts of the raw files and of lm-eval's requests (fixtures/README.md).
const fx = fileURLToPath(new URL('./fixtures/', import.meta.url));
const files = {
  piqa: { validation: `${fx}piqa/valid.jsonl` },
  sciq: { test: `${fx}sciq/test.json`, validation: `${fx}sciq/valid.json` },
  logiqa: { test: `${fx}logiqa/Test.txt` },
  logiqa2: { test: `${fx}logiqa2/test.txt` },
};
const readJsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));

describe('raw loaders and 0-shot requests on the committed excerpts', () => {
  for (const [name, dataFiles] of Object.entries(files)) {
    it(`${name}: 30 rows byte-identical to lm-eval's requests`, () => {
      const built = loadTask(name, { dataFiles }).buildRequests();
      const ref = readJsonl(`${fx}reference/${name}.requests.jsonl`);
      expect(built.length).toBe(30);
      expect(ref.length).toBe(30);
      built.forEach((d, i) => {
        expect(d.requests.map((r) => r.context)).toEqual(
          ref[i].continuations.map(() => ref[i].context),
        );
        expect(d.requests.map((r) => r.continuation)).toEqual(ref[i].continuations);
        expect(d.gold).toEqual([ref[i].gold]);
        expect(d.choices.map(codePointLength)).toEqual(ref[i].choice_char_len);
      });
    });
  }
});

interface Expected {
  context: string;
  drawn: number[];
  shots: number[];
}
const expected = JSON.parse(readFileSync(`${fx}fewshot-expected.json`, 'utf8')) as Record<
  'piqa' | 'sciq',
  Expected[]
>;

describe('5-shot prompts (seed 1234) equal the CPython-computed ones', () => {
  it('piqa: few-shot from its own split; drawn 6, the evaluated doc dropped', () => {
    const task = loadTask('piqa', { dataFiles: files.piqa });
    const built = task.buildRequests({ numFewshot: 5, seed: 1234, limit: 10 });
    for (const [i, d] of built.entries())
      expect(d.requests[0].context).toBe(expected.piqa[i].context);
    // The pinned set includes docs whose own row was drawn (and had to be dropped).
    expect(expected.piqa.some((e, i) => e.drawn.includes(i))).toBe(true);
  });
  it('sciq: test docs with shots from validation', () => {
    const task = loadTask('sciq', { dataFiles: files.sciq });
    const built = task.buildRequests({ numFewshot: 5, seed: 1234, limit: 10 });
    for (const [i, d] of built.entries())
      expect(d.requests[0].context).toBe(expected.sciq[i].context);
  });
  it('the sampler never includes the evaluated doc (all 30 piqa docs, several seeds)', () => {
    const task = loadTask('piqa', { dataFiles: files.piqa });
    for (const seed of [0, 1, 1234, 99]) {
      const built = task.buildRequests({ numFewshot: 5, seed });
      for (const d of built) {
        const own = `Question: ${d.doc.goal}\nAnswer:`;
        const ctx = d.requests[0].context;
        // The doc's own question appears once: at the end, never as a shot.
        expect(ctx.indexOf(own)).toBe(ctx.length - own.length);
        expect(ctx.split('\n\n')).toHaveLength(6);
      }
    }
    expect(pyEquals({ a: [1, 'x'] }, { a: [1, 'x'] })).toBe(true);
  });
  it('different seeds give different prompts; the same seed the same', () => {
    const task = loadTask('piqa', { dataFiles: files.piqa });
    const a = task.buildRequests({ numFewshot: 3, seed: 7, limit: 5 });
    const b = task.buildRequests({ numFewshot: 3, seed: 7, limit: 5 });
    const c = task.buildRequests({ numFewshot: 3, seed: 8, limit: 5 });
    expect(a).toEqual(b);
    expect(a.map((d) => d.requests[0].context)).not.toEqual(c.map((d) => d.requests[0].context));
  });
});

import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EvaluationError, editDistance, nearestNames, UnknownTaskError } from './errors.js';
import { loadTask } from './task.js';
import { builtinTaskNames, loadTaskConfig } from './task-config.js';

const fx = fileURLToPath(new URL('./fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lrw-eval-input-'));
const readJsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

describe('raw formats are recognised from the data, not only from dataset_path', () => {
  it("lm-eval's upstream piqa.yaml (dataset_path: baber/piqa) on the raw PIQA files gives lm-eval's requests", () => {
    const task = loadTask(`${fx}lm-eval-piqa.yaml`, {
      dataFiles: { validation: `${fx}piqa/valid.jsonl` },
    });
    const ref = readJsonl(`${fx}reference/piqa.requests.jsonl`);
    const built = task.buildRequests();
    expect(built.map((d) => d.gold)).toEqual(ref.map((r) => [r.gold]));
    expect(built.map((d) => d.requests.map((r) => r.continuation))).toEqual(
      ref.map((r) => r.continuations),
    );
  });

  it('raw PIQA rows under a name no table knows: labels read from beside them', () => {
    const p = join(dir, 'my-piqa.yaml');
    writeFileSync(
      p,
      readFileSync(`${fx}lm-eval-piqa.yaml`, 'utf8').replace('baber/piqa', 'someone/piqa-copy'),
    );
    const task = loadTask(p, { dataFiles: { validation: `${fx}piqa/valid.jsonl` } });
    expect(task.evalDocs[0]).toHaveProperty('label');
    // without the labels file: an error that says where the labels go
    const lone = join(dir, 'valid.jsonl');
    copyFileSync(`${fx}piqa/valid.jsonl`, lone);
    const e = thrown(() => loadTask(p, { dataFiles: { validation: lone } }));
    expect(EvaluationError.isInstance(e) && e.code).toBe('DATA_FILE');
    expect(String(e)).toMatch(
      /PIQA rows \(goal, sol1, sol2\) without labels[\s\S]*valid-labels\.lst/,
    );
  });

  it('raw LogiQA records under another dataset name; text that is neither is an error', () => {
    const p = join(dir, 'logiqa-copy.yaml');
    writeFileSync(
      p,
      readFileSync(new URL('../tasks/logiqa.yaml', import.meta.url), 'utf8').replace(
        /dataset_path: .*/,
        'dataset_path: someone/logiqa-copy',
      ),
    );
    const built = loadTask(p, { dataFiles: { test: `${fx}logiqa/Test.txt` } }).buildRequests();
    const ref = readJsonl(`${fx}reference/logiqa.requests.jsonl`);
    expect(built.map((d) => d.requests[0].context)).toEqual(ref.map((r) => r.context));
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'this is not a data file\nat all\n');
    expect(() => loadTask(p, { dataFiles: { test: junk } })).toThrow(
      /neither JSON rows nor a raw format/,
    );
  });

  it('a task whose every gold answer is missing is an error, not an accuracy of 0', () => {
    const p = join(dir, 'unlabelled.yaml');
    writeFileSync(
      p,
      'task: unlabelled\noutput_type: multiple_choice\nvalidation_split: validation\n' +
        'doc_to_text: "{{q}}"\ndoc_to_target: label\ndoc_to_choice: "{{[a, b]}}"\n',
    );
    const rows = join(dir, 'unlabelled.jsonl');
    writeFileSync(
      rows,
      '{"q": "x?", "a": "yes", "b": "no"}\n{"q": "y?", "a": "up", "b": "down"}\n',
    );
    const task = loadTask(p, { dataFiles: { validation: rows } });
    const e = thrown(() => task.buildRequests());
    expect(EvaluationError.isInstance(e) && e.code).toBe('NO_GOLD');
    expect(String(e)).toMatch(
      /no document's gold answer is among its choices; doc_to_target "label" gives "label" for document 0, choices \["yes","no"\] \(document fields: q, a, b\)/,
    );
    // one labelled row is enough to run (lm-eval scores the others as misses)
    writeFileSync(
      rows,
      '{"q": "x?", "a": "yes", "b": "no", "label": 1}\n{"q": "y?", "a": "up", "b": "down"}\n',
    );
    expect(loadTask(p, { dataFiles: { validation: rows } }).buildRequests()[0].gold).toEqual([1]);
  });
});

describe('unknown task names', () => {
  it('say "unknown task" with the nearest built-in names', () => {
    const names = builtinTaskNames();
    const cases: [string, string[]][] = [
      ['piqaa', ['piqa']],
      ['sicq', ['sciq']],
      ['logiqa3', ['logiqa', 'logiqa2']],
      ['arc', ['arc_easy', 'arc_challenge']],
      ['hellaswg', ['hellaswag']],
      ['nope', []],
    ];
    for (const [name, near] of cases) {
      expect(nearestNames(name, names), name).toEqual(near);
      const e = thrown(() => loadTaskConfig(name));
      expect(e).toBeInstanceOf(UnknownTaskError);
      expect((e as UnknownTaskError).code).toBe('UNKNOWN_TASK');
      expect((e as Error).message.split('\n')[0]).toBe(
        `unknown task '${name}'${near.length ? `; did you mean ${near.join(', ')}?` : ''}`,
      );
    }
  });

  it('edit distance counts an adjacent swap as one edit', () => {
    expect(editDistance('sciq', 'sicq')).toBe(1);
    expect(editDistance('piqa', 'piqaa')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

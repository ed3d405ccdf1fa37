import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FewShotSampler } from './fewshot-sampler.js';
import { loadTask, type Task } from './task.js';
import type { Doc } from './task-functions.js';

// Expected draws come from lm-evaluation-harness's own samplers.py run by
// fixtures/fewshot-lm-eval.py (see fixtures/README.md), not from a re-implementation.
const fx = fileURLToPath(new URL('./fixtures/', import.meta.url));
const ref = JSON.parse(readFileSync(`${fx}fewshot-lm-eval.json`, 'utf8')) as {
  lm_eval_commit: string;
  samples: Doc[];
  cases: Record<string, number[][]>;
  piqa_full: { docs: number; self_drawn: number[]; sha256: string };
};
const piqaYaml = fileURLToPath(new URL('../tasks/piqa.yaml', import.meta.url));
const piqaFiles = { validation: `${fx}piqa/valid.jsonl` };
const dir = mkdtempSync(join(tmpdir(), 'lrw-eval-fewshot-'));
function variant(name: string, extra: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `include: ${piqaYaml}\ntask: ${name}\n${extra}`);
  return path;
}

/** The prompt lm-eval builds from the expected shot indices into `pool`. */
function expectedContexts(task: Task, pool: readonly Doc[], shots: number[][]): string[] {
  return task.evalDocs.map(
    (doc, i) =>
      shots[i].map((k) => task.fewshotExample(pool[k])).join('') + String(task.docToText(doc)),
  );
}
const contexts = (task: Task, numFewshot: number) =>
  task.buildRequests({ numFewshot, seed: 1234 }).map((d) => d.requests[0].context);

describe(`few-shot draws equal lm-eval's samplers (commit ${ref.lm_eval_commit.slice(0, 7)})`, () => {
  it('fewshot_split unset (== test_split unset): the evaluated doc is left out, n + 1 drawn', () => {
    const task = loadTask('piqa', { dataFiles: piqaFiles });
    expect(contexts(task, 5)).toEqual(
      expectedContexts(task, task.evalDocs, ref.cases.piqa_default),
    );
  });

  it('fewshot_split: validation (!= test_split null): drawn as it comes, a doc may show itself', () => {
    const task = loadTask(variant('piqa_fs_validation', 'fewshot_split: validation\n'), {
      dataFiles: piqaFiles,
    });
    const shots = ref.cases.piqa_fewshot_validation;
    expect(contexts(task, 5)).toEqual(expectedContexts(task, task.evalDocs, shots));
    // The case the rule is about occurs in the excerpt: docs whose own row is among the shots.
    expect(shots.filter((s, i) => s.includes(i)).length).toBeGreaterThan(0);
  });

  it('first_n: with fewshot_split validation docs 0-4 include themselves; unset splits skip them', () => {
    const fsValidation = loadTask(
      variant(
        'piqa_first_n_validation',
        'fewshot_split: validation\nfewshot_config:\n  sampler: first_n\n',
      ),
      { dataFiles: piqaFiles },
    );
    expect(contexts(fsValidation, 5)).toEqual(
      expectedContexts(fsValidation, fsValidation.evalDocs, ref.cases.piqa_first_n_validation),
    );
    const unset = loadTask(variant('piqa_first_n', 'fewshot_config:\n  sampler: first_n\n'), {
      dataFiles: piqaFiles,
    });
    expect(contexts(unset, 5)).toEqual(
      expectedContexts(unset, unset.evalDocs, ref.cases.piqa_first_n_default),
    );
  });

  it('fewshot_config.samples: hand-written examples, as a YAML list or a !function', () => {
    const list = loadTask(
      variant('piqa_samples', `fewshot_config:\n  samples: ${JSON.stringify(ref.samples)}\n`),
      { dataFiles: piqaFiles },
    );
    const expected = expectedContexts(list, ref.samples, ref.cases.piqa_samples);
    expect(contexts(list, 5)).toEqual(expected);
    const fn = loadTask(
      variant('piqa_samples_fn', 'fewshot_config:\n  samples: !function utils.samples\n'),
      {
        dataFiles: piqaFiles,
        functions: { 'utils.samples': () => ref.samples },
      },
    );
    expect(contexts(fn, 5)).toEqual(expected);
    const firstN = loadTask(
      variant(
        'piqa_samples_first_n',
        `fewshot_config:\n  sampler: first_n\n  samples: ${JSON.stringify(ref.samples)}\n`,
      ),
      { dataFiles: piqaFiles },
    );
    expect(contexts(firstN, 3)).toEqual(
      expectedContexts(firstN, ref.samples, ref.cases.piqa_samples_first_n),
    );
  });

  it('sciq: test evaluated, shots from validation, nothing left out', () => {
    const task = loadTask('sciq', {
      dataFiles: { test: `${fx}sciq/test.json`, validation: `${fx}sciq/valid.json` },
    });
    const pool = task.fewshotDocs()!.docs;
    expect(contexts(task, 5)).toEqual(expectedContexts(task, pool, ref.cases.sciq_validation));
  });

  it('unsupported fewshot_config keys and a few-shot split without a file are errors', () => {
    expect(() =>
      loadTask(variant('piqa_bad_key', 'fewshot_config:\n  doc_to_text: x\n'), {
        dataFiles: piqaFiles,
      }),
    ).toThrow(/fewshot_config.doc_to_text is not supported/);
    const task = loadTask(variant('piqa_fs_train', 'fewshot_split: train\n'), {
      dataFiles: piqaFiles,
    });
    expect(() => task.buildRequests({ numFewshot: 1 })).toThrow(
      /split 'train', which has no data file/,
    );
    expect(task.buildRequests({ numFewshot: 0 })).toHaveLength(30);
  });
});

const shared = fileURLToPath(new URL('../../../../shared/data/eval/', import.meta.url));
const haveShared = existsSync(`${shared}piqa/valid-labels.lst`);
if (!haveShared) console.warn(`full-PIQA few-shot check skipped: ${shared} is absent`);

describe.skipIf(!haveShared)('full PIQA validation, fewshot_split: validation', () => {
  it('every one of the 1838 draws equals lm-eval; 12 docs draw their own row', () => {
    const task = loadTask(variant('piqa_full', 'fewshot_split: validation\n'), {
      dataFiles: { validation: `${shared}piqa/valid.jsonl` },
    });
    const docs = task.evalDocs;
    expect(docs.length).toBe(ref.piqa_full.docs);
    const sampler = new FewShotSampler(docs, 1234, { excludeEvalDoc: false });
    const shots = docs.map((d) => sampler.draw(d, 5).map((x) => docs.indexOf(x)));
    // Python's json.dumps separators
    const text = JSON.stringify(shots).replaceAll(',', ', ');
    expect(createHash('sha256').update(text).digest('hex')).toBe(ref.piqa_full.sha256);
    expect(shots.flatMap((s, i) => (s.includes(i) ? [i] : []))).toEqual(ref.piqa_full.self_drawn);
    // and the task's own prompts use exactly these draws
    const built = contexts(task, 5);
    for (const i of ref.piqa_full.self_drawn) {
      const expected =
        shots[i].map((k) => task.fewshotExample(docs[k])).join('') +
        String(task.docToText(docs[i]));
      expect(built[i]).toBe(expected);
    }
  });
});

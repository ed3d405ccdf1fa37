import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LanguageModel } from './language-model.js';
import { codePointLength } from './metrics.js';
import { runTasks } from './run-tasks.js';
import { loadTask } from './task.js';

// The four evaluation sets of the paper, raw as their authors distribute them, and the
// requests lm-evaluation-harness builds from them (../shared/data/eval/README.md).
const evalDir = fileURLToPath(new URL('../../../../shared/data/eval/', import.meta.url));
const present = existsSync(`${evalDir}reference/piqa.requests.jsonl`);
if (!present)
  console.warn(
    `[@lrw/eval] ${evalDir} is absent: full reference tests skipped (fixtures still run)`,
  );

const files = {
  piqa: { validation: `${evalDir}piqa/valid.jsonl` },
  sciq: { test: `${evalDir}sciq/test.json`, validation: `${evalDir}sciq/valid.json` },
  logiqa: { test: `${evalDir}logiqa/Test.txt`, validation: `${evalDir}logiqa/Eval.txt` },
  logiqa2: { test: `${evalDir}logiqa2/test.txt`, validation: `${evalDir}logiqa2/dev.txt` },
} as const;
type Name = keyof typeof files;
const names = Object.keys(files) as Name[];

// From ../shared/data/eval/README.md (lm-eval with the length scorer below).
const expected: Record<Name, { acc: number; acc_norm: number }> = {
  piqa: { acc: 0.534276, acc_norm: 0.484766 },
  sciq: { acc: 0.143, acc_norm: 0.209 },
  logiqa: { acc: 0.205837, acc_norm: 0.322581 },
  logiqa2: { acc: 0.22201, acc_norm: 0.285623 },
};

interface RefRequest {
  doc_id: number;
  context: string;
  continuations: string[];
  gold: number;
  choice_char_len: number[];
  choice_byte_len: number[];
}
const readJsonl = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

/** LL = -(code points of the continuation, delimiter included); greedy never. */
export const lengthScorer: LanguageModel = {
  loglikelihood: async (reqs) =>
    reqs.map((r) => ({ logprob: -codePointLength(r.continuation), greedy: false })),
  loglikelihoodRolling: async (texts) => texts.map((t) => -codePointLength(t)),
};

describe.skipIf(!present)('reference tasks on ../shared/data/eval (every row)', () => {
  for (const name of names) {
    it(`${name}: docs from the raw files equal lm-eval's docs`, () => {
      const task = loadTask(name, { dataFiles: files[name] });
      for (const [split, docs] of [[task.evalSplit, task.evalDocs]] as const) {
        const ref = readJsonl<Record<string, unknown>>(
          `${evalDir}reference/${name}.${split}.docs.jsonl`,
        );
        expect(docs.length).toBe(ref.length);
        for (let i = 0; i < docs.length; i++) expect(docs[i]).toEqual(ref[i]);
      }
    });
    it(`${name}: 0-shot prompts and continuations are byte-identical`, () => {
      const task = loadTask(name, { dataFiles: files[name] });
      const ref = readJsonl<RefRequest>(`${evalDir}reference/${name}.requests.jsonl`);
      const built = task.buildRequests();
      expect(built.length).toBe(ref.length);
      built.forEach((d, i) => {
        const r = ref[i];
        expect(d.docId).toBe(r.doc_id);
        for (const req of d.requests) expect(req.context).toBe(r.context);
        expect(d.requests.map((q) => q.continuation)).toEqual(r.continuations);
        expect(d.gold).toEqual([r.gold]);
        expect(d.choices.map(codePointLength)).toEqual(r.choice_char_len);
        expect(d.choices.map((c) => Buffer.byteLength(c, 'utf8'))).toEqual(r.choice_byte_len);
      });
    });
  }
  it('the length scorer reproduces acc and acc_norm to 6 decimals for all four', async () => {
    const res = await runTasks(lengthScorer, { tasks: names, dataFiles: files });
    for (const name of names) {
      expect(res.results[name]['acc,none'] as number).toBeCloseTo(expected[name].acc, 6);
      expect(res.results[name]['acc_norm,none'] as number).toBeCloseTo(expected[name].acc_norm, 6);
      expect(res['n-samples'][name].effective).toBe(res['n-samples'][name].original);
    }
  });
  it('5-shot prompts (seed 1234) of docs deep in the full sets equal the CPython-computed ones', () => {
    const pinned = JSON.parse(
      readFileSync(new URL('./fixtures/fewshot-expected-full.json', import.meta.url), 'utf8'),
    ) as Record<'piqa' | 'sciq', Record<string, string>>;
    for (const name of ['piqa', 'sciq'] as const) {
      const built = loadTask(name, { dataFiles: files[name] }).buildRequests({
        numFewshot: 5,
        seed: 1234,
        limit: 1000,
      });
      for (const [i, context] of Object.entries(pinned[name])) {
        expect(built[Number(i)].requests[0].context).toBe(context);
      }
    }
  });
});

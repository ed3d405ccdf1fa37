import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LanguageModel } from './language-model.js';
import { codePointLength } from './metrics.js';
import { RequestCache } from './request-scheduler.js';
import { runTasks, type SampleLog } from './run-tasks.js';
import { loadTask } from './task.js';

const fx = fileURLToPath(new URL('./fixtures/', import.meta.url));
const dataFiles = {
  piqa: { validation: `${fx}piqa/valid.jsonl` },
  sciq: { test: `${fx}sciq/test.json`, validation: `${fx}sciq/valid.json` },
};

/** The length scorer of ../shared/data/eval/README.md, recording each call. */
function lengthModel(calls: { context: string; continuation: string }[][] = []): LanguageModel {
  return {
    loglikelihood: async (reqs) => {
      calls.push(reqs);
      return reqs.map((r) => ({ logprob: -codePointLength(r.continuation), greedy: false }));
    },
    loglikelihoodRolling: async (texts) => texts.map(() => 0),
  };
}

describe('runTasks', () => {
  it('returns lm-eval shaped results; acc, acc_norm and stderr match a hand computation', async () => {
    const res = await runTasks(lengthModel(), {
      tasks: ['piqa', 'sciq'],
      dataFiles,
      logSamples: true,
    });
    // Hand computation from the committed lm-eval requests.
    const ref = readFileSync(`${fx}reference/piqa.requests.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const hits = ref.map((r) => {
      const ll = r.continuations.map((c: string) => -codePointLength(c));
      const best = ll.indexOf(Math.max(...ll));
      const norm = ll.map((x: number, i: number) => x / r.choice_char_len[i]);
      return [best === r.gold ? 1 : 0, norm.indexOf(Math.max(...norm)) === r.gold ? 1 : 0];
    });
    const n = hits.length;
    const p = hits.reduce((s, h) => s + h[0], 0) / n;
    const pn = hits.reduce((s, h) => s + h[1], 0) / n;
    const piqa = res.results.piqa;
    expect(piqa.alias).toBe('piqa');
    expect(piqa['acc,none']).toBeCloseTo(p, 12);
    expect(piqa['acc_norm,none']).toBeCloseTo(pn, 12);
    // Sample standard deviation over sqrt(n): for 0/1 data, sqrt(p(1-p) n/(n-1)) / sqrt(n).
    expect(piqa['acc_stderr,none']).toBeCloseTo(
      Math.sqrt((p * (1 - p) * n) / (n - 1)) / Math.sqrt(n),
      12,
    );
    expect(res.versions).toEqual({ piqa: 1, sciq: 1 });
    expect(res['n-shot']).toEqual({ piqa: 0, sciq: 0 });
    expect(res['n-samples'].sciq).toEqual({ original: 30, effective: 30 });
    expect(res.higher_is_better.piqa).toEqual({ acc: true, acc_norm: true });
    expect(res.configs.sciq.doc_to_text).toBe(
      '{{support.lstrip()}}\nQuestion: {{question}}\nAnswer:',
    );
    expect(res.configs.sciq.target_delimiter).toBe(' ');
    const s = res.samples!.piqa[1] as SampleLog;
    expect(s.doc_id).toBe(1);
    expect(s.arguments.map((a) => a.continuation)).toEqual(ref[1].continuations);
    expect(s.resps).toEqual(ref[1].continuations.map((c: string) => [-codePointLength(c), false]));
    expect(s.acc).toBe(hits[1][0]);
    expect(JSON.parse(JSON.stringify(res))).toEqual(res);
  });

  it('deduplicates, caches, batches, and keeps the choices of one context together', async () => {
    const calls: { context: string; continuation: string }[][] = [];
    const cache = new RequestCache();
    const res = await runTasks(lengthModel(calls), {
      tasks: ['sciq'],
      dataFiles,
      batchSize: 8,
      cache,
    });
    expect(res.requests.requests).toBe(120);
    expect(res.requests.batches).toBe(Math.ceil(res.requests.scored / 8));
    const flat = calls.flat();
    // Sorted by context length, longest first; equal contexts adjacent.
    for (let i = 1; i < flat.length; i++)
      expect(flat[i].context.length).toBeLessThanOrEqual(flat[i - 1].context.length);
    const firstSeen = new Map<string, number>();
    flat.forEach((r, i) => {
      const f = firstSeen.get(r.context);
      if (f === undefined) firstSeen.set(r.context, i);
      else expect(flat[i - 1].context).toBe(r.context);
    });
    // A second run with the same cache asks the model nothing.
    const again = await runTasks(lengthModel(calls), { tasks: ['sciq'], dataFiles, cache });
    expect(again.requests.scored).toBe(0);
    expect(again.results).toEqual(res.results);
  });

  it('limit, numFewshot and seed: deterministic, N/A stderr for one doc', async () => {
    const a = await runTasks(lengthModel(), {
      tasks: ['piqa'],
      dataFiles,
      numFewshot: 2,
      seed: 3,
      limit: 1,
    });
    const b = await runTasks(lengthModel(), {
      tasks: ['piqa'],
      dataFiles,
      numFewshot: 2,
      seed: 3,
      limit: 1,
    });
    expect(a).toEqual(b);
    expect(a.results.piqa['acc_stderr,none']).toBe('N/A');
    expect(a['n-samples'].piqa).toEqual({ original: 30, effective: 1 });
    expect(a['n-shot'].piqa).toBe(2);
  });

  it('explains missing data files and bad model answers', async () => {
    await expect(runTasks(lengthModel(), { tasks: ['piqa'] })).rejects.toThrow(
      /no dataFiles for task 'piqa'/,
    );
    const broken: LanguageModel = {
      loglikelihood: async () => [],
      loglikelihoodRolling: async () => [],
    };
    await expect(runTasks(broken, { tasks: ['piqa'], dataFiles, limit: 2 })).rejects.toThrow(
      /returned 0 results/,
    );
  });
  it('acc_norm divides by code points, not UTF-16 units', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrw-eval-norm-'));
    writeFileSync(
      join(dir, 't.yaml'),
      'task: norm\noutput_type: multiple_choice\nvalidation_split: validation\ndoc_to_text: q\ndoc_to_target: 1\ndoc_to_choice: "{{[a, b]}}"\nmetric_list:\n  - metric: acc\n  - metric: acc_norm\n',
    );
    writeFileSync(
      join(dir, 'v.jsonl'),
      JSON.stringify({ q: 'Q', a: '\u{1F600}\u{1F600}', b: 'abcd' }),
    );
    // A: -2.5 over 2 code points (4 UTF-16 units); B: -4.4 over 4. Per code point B wins.
    const model: LanguageModel = {
      loglikelihood: async (reqs) =>
        reqs.map((r) => ({ logprob: r.continuation === ' abcd' ? -4.4 : -2.5, greedy: false })),
      loglikelihoodRolling: async () => [],
    };
    const task = loadTask(join(dir, 't.yaml'), { dataFiles: { validation: join(dir, 'v.jsonl') } });
    const res = await runTasks(model, { tasks: [task] });
    expect(res.results.norm['acc,none']).toBe(0);
    expect(res.results.norm['acc_norm,none']).toBe(1);
  });
});

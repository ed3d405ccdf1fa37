import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LanguageModel } from './language-model.js';
import { codePointLength } from './metrics.js';
import { PY_WHITESPACE, pyRstrip, pyStrip, pyWordCount } from './python-whitespace.js';
import { runTasks } from './run-tasks.js';
import { loadTask } from './task.js';
import { wikitextDetokenize, wikitextProcessResults } from './wikitext.js';

// Computed by CPython and by lm-eval's own preprocess_wikitext.py (fixtures/lm-eval-text.py).
const ref = JSON.parse(
  readFileSync(new URL('./fixtures/text-lm-eval.json', import.meta.url), 'utf8'),
) as {
  python: string;
  whitespace: number[];
  strings: { s: string; words: number; strip: string; rstrip: string }[];
  wikitext: { page: string; detokenized: string; results: Record<string, [number, number]> }[];
  wikitext_scores: Record<'word_perplexity' | 'byte_perplexity' | 'bits_per_byte', number>;
};

describe(`Python whitespace (CPython ${ref.python})`, () => {
  it("is exactly the set re's \\s matches (not JavaScript's: U+001C-U+001F, U+0085 in, U+FEFF out)", () => {
    expect(Array.from(PY_WHITESPACE, (c) => c.codePointAt(0))).toEqual(ref.whitespace);
    const js = ref.whitespace.filter((c) => /\s/u.test(String.fromCodePoint(c)));
    expect(ref.whitespace.filter((c) => !js.includes(c))).toEqual([0x1c, 0x1d, 0x1e, 0x1f, 0x85]);
    expect(/\s/.test('\ufeff')).toBe(true);
  });

  it('word counts, strip and rstrip equal Python on strings where the two disagree', () => {
    for (const c of ref.strings) {
      expect(pyWordCount(c.s), JSON.stringify(c.s)).toBe(c.words);
      expect(pyStrip(c.s), JSON.stringify(c.s)).toBe(c.strip);
      expect(pyRstrip(c.s), JSON.stringify(c.s)).toBe(c.rstrip);
    }
  });
});

describe("wikitext: lm-eval's detokenizer and counts", () => {
  it('detokenizes each page exactly as preprocess_wikitext.py', () => {
    for (const w of ref.wikitext) expect(wikitextDetokenize({ page: w.page })).toBe(w.detokenized);
  });

  it('counts words and bytes on the raw page, not the scored text', () => {
    for (const w of ref.wikitext) {
      const ll = -0.1 * codePointLength(w.detokenized);
      const got = wikitextProcessResults({ page: w.page }, [ll]) as Record<string, number[]>;
      for (const [metric, [refLl, count]] of Object.entries(w.results)) {
        expect(got[metric][0]).toBeCloseTo(refLl, 12);
        expect(got[metric][1]).toBe(count);
      }
      // the raw page has more words than the detokenized text scored
      expect(pyWordCount(w.page)).toBeGreaterThan(pyWordCount(w.detokenized));
    }
  });

  it('the built-in wikitext task gives the perplexities lm-eval aggregates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrw-wikitext-'));
    const file = join(dir, 'test.jsonl');
    writeFileSync(file, ref.wikitext.map((w) => JSON.stringify({ page: w.page })).join('\n'));
    const scored: string[] = [];
    const model: LanguageModel = {
      loglikelihood: async () => {
        throw new Error('a rolling task makes no loglikelihood requests');
      },
      loglikelihoodRolling: async (texts) => {
        scored.push(...texts);
        return texts.map((t) => -0.1 * codePointLength(t));
      },
    };
    const res = await runTasks(model, {
      tasks: ['wikitext'],
      dataFiles: { wikitext: { test: file } },
      logSamples: true,
    });
    expect(scored).toEqual(ref.wikitext.map((w) => w.detokenized));
    const row = res.results.wikitext;
    for (const [metric, value] of Object.entries(ref.wikitext_scores)) {
      expect(row[`${metric},none`] as number).toBeCloseTo(value, 12);
      expect(row[`${metric}_stderr,none`]).toBe('N/A');
    }
    expect(res.higher_is_better.wikitext).toEqual({
      word_perplexity: false,
      byte_perplexity: false,
      bits_per_byte: false,
    });
    expect(res.versions.wikitext).toBe(2);
    expect(res.samples?.wikitext[1]).toMatchObject({
      doc_id: 1,
      target: ref.wikitext[1].detokenized,
      word_perplexity: ref.wikitext[1].results.word_perplexity,
    });
  });

  it('a rolling task without process_results counts on the scored text (lm-eval default)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrw-rolling-'));
    const yaml = join(dir, 'plain.yaml');
    writeFileSync(
      yaml,
      'task: plain_text\noutput_type: loglikelihood_rolling\ntest_split: test\ndoc_to_target: "{{text}}"\n',
    );
    const file = join(dir, 'test.jsonl');
    const texts = ['one two\u0085three', 'caf\u00e9 au lait'];
    writeFileSync(file, texts.map((text) => JSON.stringify({ text })).join('\n'));
    const model: LanguageModel = {
      loglikelihood: async () => [],
      loglikelihoodRolling: async (t) => t.map(() => -Math.LN2 * 10),
    };
    const task = loadTask(yaml, { dataFiles: { test: file } });
    const res = await runTasks(model, { tasks: [task] });
    const row = res.results.plain_text;
    // words: 3 (U+0085 splits, as in Python) + 3; UTF-8 bytes: 14 (U+0085 is 2) + 13 (é is 2)
    expect(row['word_perplexity,none'] as number).toBeCloseTo(Math.exp((20 * Math.LN2) / 6), 12);
    expect(row['bits_per_byte,none'] as number).toBeCloseTo(20 / 27, 12);
    expect(row['byte_perplexity,none'] as number).toBeCloseTo(2 ** (20 / 27), 12);
    expect(() => task.buildRequests()).toThrow(/buildRollingRequests/);
  });
});

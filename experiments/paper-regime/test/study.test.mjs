// The study script at CI size (plan "tiny"): the same data building, training, resume,
// evaluation and report as the full study, on generated stand-ins for the shared corpora.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_DOMAINS, HELD_OUT_DOMAIN, MIN_DOCUMENT_BYTES, pieces } from '../src/data.mjs';
import { FULL_PLAN, planRuns, TINY_PLAN } from '../src/plan.mjs';
import { main } from '../src/run.mjs';
import { runDir, studyFiles } from '../src/runner.mjs';

let root;
let corpora;
let out;

/** The layout of ../shared/data/corpora with a few generated documents per file. */
function writeCorpora(dir) {
  const words = ['data', 'model', 'loss', 'weight', 'sample', 'batch', 'token', 'step', 'text'];
  for (const [k, file] of [...CORPUS_DOMAINS, HELD_OUT_DOMAIN].flatMap((d) => d.files).entries()) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    const docs = [0, 1, 2, 3].map((i) => {
      const sentences = Array.from(
        { length: 40 },
        (_, j) =>
          `The ${words[(i + j + k) % 9]} ${words[(j * 7 + k) % 9]} number ${j} of file ${k}.`,
      );
      return JSON.stringify({ text: sentences.join(i % 2 ? '\n' : ' ') });
    });
    // a stub the study leaves out (shorter than MIN_DOCUMENT_BYTES)
    docs.push(JSON.stringify({ text: '\\section{Introduction}' }));
    writeFileSync(join(dir, file), `${docs.join('\n')}\n`);
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lrw-study-'));
  corpora = join(root, 'corpora');
  out = join(root, 'out');
  writeCorpora(corpora);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

describe('the paper-regime study script (tiny plan)', () => {
  it('trains every run, evaluates it on validation and held-out text, and reports', async () => {
    expect(await main(['--out', out, '--plan', 'tiny', '--corpora', corpora])).toBe(0);
    const runs = planRuns(TINY_PLAN);
    expect(runs.map((r) => r.name)).toEqual([
      'A/uniform-s0',
      'A/linupper-r0.4-s0',
      'A/uniform-s1',
      'A/linupper-r0.4-s1',
      'C/uniform-s0',
      'C/linupper-r0.4-s0',
    ]);
    const results = readJson(join(out, 'report', 'results.json'));
    expect(results.runs.map((r) => r.status)).toEqual(runs.map(() => 'done'));
    // the held-out domain is evaluated, never trained on
    for (const r of results.runs) {
      expect(Object.keys(r.heldOut)).toEqual(['web-unseen']);
      expect(Object.keys(r.validation)).not.toContain('web-unseen');
    }
    const provenance = readJson(join(out, 'data', 'provenance.json'));
    expect(provenance.shortDocumentsLeftOut.arxiv).toBe(1);
    expect(provenance.mail.messages).toBeGreaterThan(0);
    // rung A has two seeds: intervals; rung C one: none, and the conclusion says so
    const a = results.analysis.A.validation.cells.mean['linupper-r0.4'].paired;
    expect(a.n).toBe(2);
    expect(a.interval.df).toBe(1);
    const c = results.analysis.C.validation.cells.mean['linupper-r0.4'].paired;
    expect(c.n).toBe(1);
    expect(c.interval).toBeUndefined();
    expect(results.conclusion.join('\n')).toContain('with one seed (no interval exists)');
    // the paired difference recomputed from the two runs' own evaluation files
    const meanPpl = (name) => {
      const run = runs.find((r) => r.name === name);
      const ev = readJson(studyFiles(runDir(out, run)).evalFull).results;
      const v = Object.entries(ev)
        .filter(([k]) => k.startsWith('lrw_perplexity_'))
        .map(([, x]) => x['perplexity,none']);
      return v.reduce((x, y) => x + y, 0) / v.length;
    };
    expect(c.mean).toBeCloseTo(meanPpl('C/linupper-r0.4-s0') - meanPpl('C/uniform-s0'), 9);
    const html = readFileSync(join(out, 'report', 'report.html'), 'utf8');
    expect(html).toContain('Conclusion (written by the script from the numbers)');
    expect(html).toContain('web-unseen (held out)');
    expect(html).toContain('Effective sample size / n');
  }, 120_000);

  it('keeps finished runs, and a run cut off before its evaluations ends the same', async () => {
    const run = planRuns(TINY_PLAN).find((r) => r.name === 'A/linupper-r0.4-s1');
    const f = studyFiles(runDir(out, run));
    const before = readJson(f.evalFull);
    for (const p of [f.results, f.evalFull, f.evalHeldOut]) rmSync(p);
    expect(await main(['--out', out, '--plan', 'tiny', '--corpora', corpora])).toBe(0);
    expect(readJson(f.evalFull).results).toEqual(before.results);
    expect(existsSync(f.evalHeldOut)).toBe(true);
  }, 60_000);

  it('archives finished runs; a new output folder restores them and reports the same', async () => {
    const archive = join(root, 'archive');
    // --rungs C trains nothing new here (all done) but archives every finished run it passes
    expect(
      await main(['--out', out, '--plan', 'tiny', '--corpora', corpora, '--archive', archive]),
    ).toBe(0);
    const runs = planRuns(TINY_PLAN);
    for (const run of runs) {
      expect(existsSync(join(archive, run.name, 'metrics.jsonl'))).toBe(true);
      expect(readdirSync(join(archive, run.name)).some((f) => f.includes('checkpoint'))).toBe(
        false,
      );
    }
    const elsewhere = join(root, 'elsewhere');
    expect(
      await main(['--out', elsewhere, '--plan', 'tiny', '--archive', archive, '--report-only']),
    ).toBe(0);
    const a = readJson(join(out, 'report', 'results.json'));
    const b = readJson(join(elsewhere, 'report', 'results.json'));
    expect(b.runs.map((r) => r.status)).toEqual(runs.map(() => 'done'));
    expect(b.analysis).toEqual(a.analysis);
    expect(b.conclusion).toEqual(a.conclusion);
    // a rung not in --rungs is left as it is
    rmSync(join(elsewhere, 'runs', 'C'), { recursive: true });
    rmSync(join(archive, 'C'), { recursive: true });
    expect(
      await main(['--out', elsewhere, '--plan', 'tiny', '--corpora', corpora, '--rungs', 'A']),
    ).toBe(0);
    expect(existsSync(join(elsewhere, 'runs', 'C'))).toBe(false);
    await expect(main(['--out', elsewhere, '--plan', 'tiny', '--rungs', 'A,B'])).rejects.toThrow(
      /no rung B in the tiny plan/,
    );
  }, 60_000);

  it('stops with a message when the shared corpora are missing, or the plan changed', async () => {
    await expect(
      main(['--out', join(root, 'x'), '--plan', 'tiny', '--corpora', join(root, 'none')]),
    ).rejects.toThrow(/needs the shared data folder/);
    await expect(main(['--out', out, '--plan', 'full', '--corpora', corpora])).rejects.toThrow(
      /holds another plan/,
    );
    rmSync(join(corpora, HELD_OUT_DOMAIN.files[0]));
    await expect(
      main(['--out', join(root, 'y'), '--plan', 'tiny', '--corpora', corpora]),
    ).rejects.toThrow(/missing under .*cc_en_head-0091/);
  });
});

describe('the full plan', () => {
  it('is the pre-registered ladder: 3 rungs x 5 settings x 3 seeds, paired by seed', () => {
    const runs = planRuns(FULL_PLAN);
    expect(runs).toHaveLength(45);
    expect(FULL_PLAN.rungs.map((r) => [r.seqLen, r.batchSize, r.tokenizer])).toEqual([
      [64, 8, 'byte'],
      [256, 32, 'byte'],
      [512, 32, 'gpt2'],
    ]);
    // one token budget per rung; the reweighting warm-up is 5% of the steps
    for (const rung of FULL_PLAN.rungs) {
      const these = runs.filter((r) => r.rung === rung.id);
      expect(new Set(these.map((r) => r.tokens)).size).toBe(1);
      for (const r of these.filter((x) => x.config.method !== 'uniform')) {
        expect(r.config.temperature.warmupSteps).toBe(Math.max(1, Math.round(0.05 * rung.steps)));
      }
    }
    const r04 = runs.find((r) => r.label === 'linupper-r0.4');
    expect(r04.config.temperature.then).toEqual({ kind: 'constant', r: 0.4 });
    // a pair differs only in the weighting
    const u = runs.find((r) => r.name === 'B/uniform-s2').config;
    const q = runs.find((r) => r.name === 'B/quadratic-r1-s2').config;
    const { method: _m, temperature: _t, ...rest } = q;
    expect(u).toEqual({ ...rest, method: 'uniform' });
  });

  it('cuts corpora documents at line ends into pieces of at most 4 KiB', () => {
    const text = `${'a'.repeat(3000)}\n${'b'.repeat(3000)}\n${'é'.repeat(5000)}`;
    const p = pieces(text, 4096);
    expect(p.join('')).toBe(text);
    for (const x of p) expect(Buffer.byteLength(x)).toBeLessThanOrEqual(4096);
    expect(p[0]).toBe(`${'a'.repeat(3000)}\n`);
    expect(MIN_DOCUMENT_BYTES).toBe(512);
  });
});

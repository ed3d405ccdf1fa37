import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium as playwright } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { CompareResults } from '../../src/cli/commands/compare.js';
import { LRW_MAIN } from '../../src/cli/parallel-runs.js';
import type { RunResults } from '../../src/run-results.js';
import { lrw } from './cli-harness.js';

// prepare -> train two methods -> compare (two seeds) -> report, on a two-domain corpus with a
// byte tokenizer and a few steps of the nano GPT, all in-process through runCli.
const corpus = fileURLToPath(new URL('./fixtures/tiny-corpus/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lrw-cli-e2e-'));
const data = join(root, 'data');
const budget = [
  '--steps',
  '4',
  '--seq-len',
  '16',
  '--batch-size',
  '2',
  '--lr',
  '1e-3',
  '--eval-interval',
  '2',
  '--eval-batches',
  '2',
];

// The report check needs Debian's chromium (apt-get install chromium); CI may lack it.
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (chromium === undefined) {
  console.warn(
    'lrw CLI report check in Chromium skipped: no chromium in /usr/bin (apt-get install chromium)',
  );
}
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
/** Where the screenshot is kept: $LRW_TEST_ARTIFACTS, else the test's temporary folder. */
const artifacts = process.env.LRW_TEST_ARTIFACTS ?? root;

const execFileAsync = promisify(execFile);

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('lrw end to end (tiny corpus)', () => {
  it('prepare writes shards of both domains', async () => {
    const r = await lrw(
      'prepare',
      '--source',
      corpus,
      '--out',
      data,
      '--tokenizer',
      'byte',
      '--workers',
      '0',
      '--validation-documents',
      '2',
    );
    expect(r.stderr).toContain('ETA');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /prepared books, code in .*: [\d,]+ train \+ [\d,]+ validation tokens \(byte\)/,
    );
    expect(existsSync(join(data, 'index.lrw'))).toBe(true);
  });

  it('compare checks mixture files against the dataset before training anything', async () => {
    const out = join(root, 'compare-mixture');
    const file = join(root, 'slimpajama-weights.json');
    writeFileSync(file, JSON.stringify({ arxiv: 0.5, books: 0.5 }));
    const r = await lrw(
      'compare',
      '--data',
      data,
      '--out',
      out,
      '--methods',
      'uniform',
      '--mixtures',
      file,
      ...budget,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file} names "arxiv", which the dataset does not have`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(out, 'uniform'))).toBe(false);
  });

  it('train runs two methods with the same seed and writes results.json', async () => {
    for (const method of ['uniform', 'linupper']) {
      const out = join(root, 'train', method);
      const r = await lrw(
        'train',
        '--data',
        data,
        '--out',
        out,
        '--method',
        method,
        ...budget,
        '--reweight-warmup',
        '1',
      );
      expect(r.stderr).toMatch(/step\s+4\/4/);
      expect(r.code, r.stderr).toBe(0);
      const results = readJson<RunResults>(join(out, 'results.json'));
      expect(results).toMatchObject({ method, label: method, seed: 0, steps: 4 });
      expect(Object.keys(results.domains).sort()).toEqual(['books', 'code']);
      // the printed table is the results file's
      for (const [d, v] of Object.entries(results.domains)) {
        expect(r.stdout).toMatch(
          new RegExp(`${d}\\s+${v.loss.toFixed(4)}\\s+${v.perplexity.toFixed(2)}`),
        );
      }
      const config = readJson<{
        method: string;
        temperature?: { warmupSteps: number; then: { r: number } };
      }>(join(out, 'config.json'));
      if (method === 'linupper')
        expect(config.temperature).toMatchObject({
          warmupSteps: 1,
          // biome-ignore lint/suspicious/noThenProperty: the config's temperature field is named so
          then: { r: 0.4 },
        });
    }
    // --resume on a finished run: the latest checkpoint is the last step, nothing left to train
    const finished = readJson<RunResults>(join(root, 'train', 'uniform', 'results.json'));
    const resumed = await lrw(
      'train',
      '--data',
      data,
      '--out',
      join(root, 'train', 'uniform'),
      '--method',
      'uniform',
      ...budget,
      '--resume',
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toMatch(/step\s+[1-3]\/4/);
    expect(readJson<RunResults>(join(root, 'train', 'uniform', 'results.json')).domains).toEqual(
      finished.domains,
    );
    const again = await lrw(
      'train',
      '--data',
      data,
      '--out',
      join(root, 'train', 'uniform'),
      ...budget,
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('add --resume');
  });

  it('compare trains every method and seed and prints the Table 1 of its results.json', async () => {
    const out = join(root, 'compare');
    const r = await lrw(
      'compare',
      '--data',
      data,
      '--out',
      out,
      '--methods',
      'uniform,linupper',
      '--seeds',
      '0,1',
      ...budget,
      '--reweight-warmup',
      '1',
    );
    expect(r.code, r.stderr).toBe(0);
    const results = readJson<CompareResults>(join(out, 'results.json'));
    expect(results.kind).toBe('lrw-compare');
    expect(results.seeds).toEqual([0, 1]);
    expect(results.runs.map((x) => [x.label, x.seed])).toEqual([
      ['uniform', 0],
      ['uniform', 1],
      ['linupper', 0],
      ['linupper', 1],
    ]);
    const table = results.perplexity;
    expect(table.labels).toEqual(['uniform', 'linupper']);
    expect(table.rows).toEqual(['books', 'code', 'mean']);
    expect(table.baseline).toBe('uniform');
    // cells recomputed from each run's own results.json: mean and sample std over seeds
    for (const label of table.labels) {
      const runs = results.runs
        .filter((x) => x.label === label)
        .map((x) => readJson<RunResults>(join(x.dir, 'results.json')));
      expect(runs).toHaveLength(2);
      for (const row of table.rows) {
        const per = runs.map((x) =>
          row === 'mean'
            ? (x.domains.books!.perplexity + x.domains.code!.perplexity) / 2
            : x.domains[row]!.perplexity,
        );
        const mean = (per[0]! + per[1]!) / 2;
        const std = Math.abs(per[0]! - per[1]!) / Math.SQRT2;
        const cell = table.cells[row]![label]!;
        expect(cell.mean).toBeCloseTo(mean, 10);
        expect(cell.std).toBeCloseTo(std, 10);
        expect(cell.n).toBe(2);
      }
    }
    // the printed table shows the same numbers: "mean ± std (difference)" per method
    const lines = r.stdout.split('\n');
    expect(lines[0]).toContain('mean ± std over 2 seeds');
    for (const row of table.rows) {
      const line = lines.find((l) => l.startsWith(`${row} `));
      expect(line, row).toBeDefined();
      const u = table.cells[row]!.uniform!;
      const l = table.cells[row]!.linupper!;
      const delta = l.mean - u.mean;
      expect(line).toContain(`${u.mean.toFixed(2)} ± ${u.std.toFixed(2)}`);
      expect(line).toContain(
        `${l.mean.toFixed(2)} ± ${l.std.toFixed(2)} (${delta >= 0 ? '+' : ''}${delta.toFixed(2)})`,
      );
    }
    // paired differences, recomputed from the runs' own results.json: linupper - uniform with the
    // same seed, and their 95% interval over 2 seeds (t_{0.975,1} = 12.706)
    const perSeed = (label: string, seed: number, row: string) => {
      const x = readJson<RunResults>(
        join(results.runs.find((y) => y.label === label && y.seed === seed)!.dir, 'results.json'),
      );
      return row === 'mean'
        ? (x.domains.books!.perplexity + x.domains.code!.perplexity) / 2
        : x.domains[row]!.perplexity;
    };
    const pairedLines = lines.slice(lines.findIndex((l) => l.includes('with the same seed')));
    expect(pairedLines[0]).toContain('95% Student-t interval] over 2 seeds');
    for (const row of table.rows) {
      const d = [0, 1].map(
        (seed) => perSeed('linupper', seed, row) - perSeed('uniform', seed, row),
      );
      const mean = (d[0]! + d[1]!) / 2;
      const half = (12.706205 * (Math.abs(d[0]! - d[1]!) / Math.SQRT2)) / Math.SQRT2;
      const p = table.cells[row]!.linupper!.paired!;
      expect(p.seeds).toEqual([0, 1]);
      expect(p.mean).toBeCloseTo(mean, 10);
      expect(p.interval!.low).toBeCloseTo(mean - half, 5);
      expect(p.interval!.high).toBeCloseTo(mean + half, 5);
      expect(p.excludesZero).toBe(mean - half > 0 || mean + half < 0);
      const fmt = (v: number) => `${v > 0 && Number(v.toFixed(2)) !== 0 ? '+' : ''}${v.toFixed(2)}`;
      expect(pairedLines.find((l) => l.startsWith(`${row} `))).toContain(
        `${fmt(mean)} [${fmt(mean - half)}, ${fmt(mean + half)}]`,
      );
    }
    expect(results.report).toBe(join(out, 'report.html'));
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  // The reference is `lrw compare` (one run after another) in a plain node process too: inside the
  // Vitest worker, @lrw/tensor's CPU kernels can round differently in the last float32 bits.
  it('compare --jobs 2 trains in child processes with the same results as one after another', async () => {
    const out = join(root, 'compare-jobs');
    const r = await lrw(
      'compare',
      '--data',
      data,
      '--out',
      out,
      '--methods',
      'uniform,linupper',
      '--jobs',
      '2',
      ...budget,
      '--reweight-warmup',
      '1',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('2 at a time');
    expect(r.stderr).toMatch(/^linupper step\s+4\/4/m);
    expect(r.stderr).toMatch(/^\[uniform\] eval step 4/m);
    const seqOut = join(root, 'compare-sequential');
    await execFileAsync(process.execPath, [
      LRW_MAIN,
      'compare',
      '--data',
      data,
      '--out',
      seqOut,
      '--methods',
      'uniform,linupper',
      ...budget,
      '--reweight-warmup',
      '1',
      '--no-report',
    ]);
    const parallel = readJson<CompareResults>(join(out, 'results.json'));
    const sequential = readJson<CompareResults>(join(seqOut, 'results.json'));
    for (const label of ['uniform', 'linupper']) {
      const a = parallel.runs.find((x) => x.label === label)!;
      const b = sequential.runs.find((x) => x.label === label)!;
      expect(a.domains).toEqual(b.domains);
    }
  });

  it('compare --resume --tasks keeps the runs and adds the Table 2 of few-shot accuracy', async () => {
    const out = join(root, 'compare');
    const sciq = fileURLToPath(new URL('./fixtures/sciq/test.json', import.meta.url));
    const r = await lrw(
      'compare',
      '--data',
      data,
      '--out',
      out,
      '--methods',
      'uniform,linupper',
      '--seeds',
      '0,1',
      ...budget,
      '--reweight-warmup',
      '1',
      '--resume',
      '--tasks',
      'sciq',
      '--task-file',
      `sciq:test=${sciq}`,
      '--limit',
      '3',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/finished before, kept/g)).toHaveLength(4);
    const results = readJson<CompareResults>(join(out, 'results.json'));
    const tasks = results.tasks!;
    expect(tasks.rows).toEqual(['sciq', 'mean']);
    for (const label of ['uniform', 'linupper']) {
      const accs = results.runs
        .filter((x) => x.label === label)
        .map((x) => readJson<RunResults>(join(x.dir, 'results.json')).tasks!.sciq!);
      for (const a of accs)
        expect([0, 1 / 3, 2 / 3, 1].some((v) => Math.abs(v - a) < 1e-12)).toBe(true);
      const cell = tasks.cells.sciq![label]!;
      expect(cell.mean).toBeCloseTo((accs[0]! + accs[1]!) / 2, 12);
      const text = `${(cell.mean * 100).toFixed(1)} ± ${(cell.std * 100).toFixed(1)}`;
      expect(r.stdout.split('\n').find((l) => l.startsWith('sciq '))).toContain(text);
    }
    expect(r.stdout).toContain('Few-shot accuracy, % (higher is better)');
    expect(r.stderr).toMatch(/tasks \(requests\) step\s+12\/12 .*ETA/);
  });

  it('report writes one HTML file from the runs of a compare folder', async () => {
    const file = join(root, 'report.html');
    const r = await lrw('report', join(root, 'compare'), '--out', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('report of 4 runs');
    expect(readFileSync(file, 'utf8')).toContain('sciq');
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    for (const label of ['uniform', 'linupper']) expect(html).toContain(label);
  });

  it('eval writes lm-eval-style perplexity results of a run', async () => {
    const run = join(root, 'train', 'linupper');
    const r = await lrw('eval', run, '--data', data, '--eval-batches', '2');
    expect(r.code, r.stderr).toBe(0);
    const out = readJson<{
      results: Record<string, Record<string, number>>;
      config: { step: number };
    }>(join(run, 'eval-results.json'));
    expect(out.config.step).toBe(4);
    for (const d of ['books', 'code']) {
      const block = out.results[`lrw_perplexity_${d}`]!;
      expect(block['perplexity,none']).toBeCloseTo(Math.exp(block['loss,none']!), 8);
      expect(block.tokens).toBeGreaterThan(0);
    }
    // the checkpoint reloaded from disk scores the validation batches as the trainer's own final
    // evaluation did (same batches: the first 2 of the unshuffled validation stream)
    const trained = readJson<RunResults>(join(run, 'results.json'));
    for (const [d, v] of Object.entries(trained.domains)) {
      expect(out.results[`lrw_perplexity_${d}`]!['loss,none']).toBeCloseTo(v.loss, 5);
    }
  });

  it("eval --tasks piqa scores answers longer than the training seq-len in the model's context", async () => {
    const run = join(root, 'train', 'linupper');
    const evalPiqa = (file: string, out: string, ...more: string[]) =>
      lrw(
        'eval',
        run,
        '--data',
        data,
        '--eval-batches',
        '1',
        '--out',
        out,
        ...more,
        '--task-file',
        `piqa:validation=${file}`,
      );
    // trained with --seq-len 16; PIQA's first answer is 164 bytes, the nano model's context 256;
    // and a perplexity task in the same run: lm-eval's wikitext on one page
    const out = join(root, 'eval-piqa.json');
    const wiki = join(root, 'wikitext.jsonl');
    writeFileSync(wiki, `${JSON.stringify({ page: ' = Title = \n \n Some text , here . \n' })}\n`);
    const piqa = fileURLToPath(new URL('./fixtures/piqa/valid.jsonl', import.meta.url));
    const r = await evalPiqa(
      piqa,
      out,
      '--tasks',
      'piqa,wikitext',
      '--task-file',
      `wikitext:test=${wiki}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const results = readJson<{ results: Record<string, Record<string, number>> }>(out).results;
    expect([0, 0.25, 0.5, 0.75, 1]).toContain(results.piqa!['acc,none']);
    expect(r.stdout).toMatch(/^piqa /m);
    expect(results.wikitext!['word_perplexity,none']).toBeGreaterThan(1);
    expect(r.stdout).toMatch(
      /^task +word_perplexity +byte_perplexity +bits_per_byte\n[- ]+\nwikitext /m,
    );
    // an answer longer than the whole context: a message, exit code 1, no stack trace
    const long = join(root, 'long-piqa');
    mkdirSync(long, { recursive: true });
    const row = { goal: 'Say it at length.', sol1: 'word '.repeat(60), sol2: 'short' };
    writeFileSync(join(long, 'valid.jsonl'), `${JSON.stringify(row)}\n`);
    writeFileSync(join(long, 'valid-labels.lst'), '0\n');
    const bad = await evalPiqa(
      join(long, 'valid.jsonl'),
      join(root, 'eval-long.json'),
      '--tasks',
      'piqa',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^lrw eval: the continuation " word word .*" is 301 tokens, longer than the model's context of 256 tokens \(request \d\); lm-evaluation-harness refuses such requests too\nHINT: /m,
    );
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it.skipIf(chromium === undefined)(
    'the compare report renders in headless Chromium: no console errors, charts, a screenshot',
    async () => {
      const browser = await playwright.launch({
        executablePath: chromium!,
        headless: true,
        args: CHROMIUM_FLAGS,
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`file://${join(root, 'compare', 'report.html')}`, { waitUntil: 'load' });
        expect(problems).toEqual([]);
        // nothing fetched but the file itself
        expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
        const charts = await page.locator('svg').count();
        expect(charts).toBeGreaterThanOrEqual(10);
        // every chart has drawn lines, and the perplexity table has a row per domain and the mean
        const empty = await page.$$eval(
          'svg',
          (svgs) =>
            svgs.filter((s) => s.querySelectorAll('path, polyline, line').length === 0).length,
        );
        expect(empty).toBe(0);
        const tableText = await page.locator('table').allInnerTexts();
        expect(tableText.join('\n')).toMatch(/books[\s\S]*code[\s\S]*mean/);
        const png = join(artifacts, 'lrw-compare-report.png');
        await page.screenshot({ path: png, fullPage: true });
        expect(statSync(png).size).toBeGreaterThan(10_000);
        console.log(`report screenshot: ${png}`);
      } finally {
        await browser.close();
      }
    },
  );
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport, writeReport } from './html-report.js';
import { bucketMeans, comparisonTable, loadReportRun, type ReportRun } from './report-data.js';
import { writeSyntheticRun } from './report-fixture.test-helpers.js';
import { writeRunResults } from './run-results.js';
import { formatTick, lineChart, niceTicks } from './svg-chart.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lrw-report-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(label: string, domains: Record<string, number>, seed = 0): ReportRun {
  return {
    name: `${label}-${seed}`,
    label,
    seed,
    train: [],
    eval: [],
    results: {
      method: label,
      seed,
      domains: Object.fromEntries(
        Object.entries(domains).map(([d, p]) => [d, { loss: Math.log(p), perplexity: p }]),
      ),
    },
  };
}

describe('comparisonTable', () => {
  it('averages seeds, puts the baseline first and takes differences from it', () => {
    const table = comparisonTable(
      [
        run('linupper', { arxiv: 10, book: 20 }, 0),
        run('uniform', { arxiv: 11, book: 22 }),
        run('linupper', { arxiv: 12, book: 22 }, 1),
      ],
      (r) => Object.fromEntries(Object.entries(r.domains).map(([d, v]) => [d, v.perplexity])),
    );
    expect(table.labels).toEqual(['uniform', 'linupper']);
    expect(table.rows).toEqual(['arxiv', 'book', 'mean']);
    // linupper arxiv: seeds 10 and 12 -> mean 11, sample std sqrt(2)
    expect(table.cells.arxiv!.linupper).toMatchObject({ mean: 11, n: 2, delta: 0 });
    expect(table.cells.arxiv!.linupper!.std).toBeCloseTo(Math.SQRT2, 12);
    expect(table.cells.book!.linupper).toMatchObject({ mean: 21, delta: -1 });
    // mean row: per seed (10+20)/2 = 15 and (12+22)/2 = 17 -> 16; uniform (11+22)/2 = 16.5
    expect(table.cells.mean!.linupper).toMatchObject({ mean: 16, delta: -0.5 });
    expect(table.cells.mean!.uniform).toMatchObject({ mean: 16.5, std: 0, n: 1 });
    expect(table.cells.mean!.uniform!.delta).toBeUndefined();
  });

  it('has no differences without a baseline', () => {
    const t = comparisonTable([run('a', { x: 1 }), run('b', { x: 2 })], (r) => ({
      x: r.domains.x!.perplexity,
    }));
    expect(t.baseline).toBeUndefined();
    expect(t.cells.x!.b!.delta).toBeUndefined();
  });
});

describe('chart helpers', () => {
  it('picks 1-2-5 ticks and short labels', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(2.93, 7.1, 5)).toEqual([3, 4, 5, 6, 7]);
    expect(niceTicks(0, 20000, 6)).toEqual([0, 5000, 10000, 15000, 20000]);
    expect([20000, 5e-4, 3.25, 0, 1.5e6].map(formatTick)).toEqual([
      '20k',
      '5e-4',
      '3.25',
      '0',
      '1.5M',
    ]);
  });

  it('averages buckets of steps and leaves gaps for skipped steps', () => {
    const pts: [number, number | null][] = [
      [1, 1],
      [2, 3],
      [3, null],
      [4, Number.NaN],
      [5, 5],
    ];
    expect(bucketMeans(pts, 3)).toEqual({
      points: [
        [1.5, 2],
        [3.5, null],
        [5, 5],
      ],
      stepsPerPoint: 2,
    });
  });

  it('breaks the line at a gap and escapes names', () => {
    const svg = lineChart(
      [
        {
          name: '<b>x</b>',
          color: '#123456',
          points: [
            [0, 1],
            [1, null],
            [2, 3],
          ],
        },
      ],
      { title: 'T & "q"' },
    );
    expect(svg).toMatch(/d="M[\d.]+ [\d.]+M[\d.]+ [\d.]+"/); // two moves, no line across the gap
    expect(svg).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(svg).toContain('T &amp; &quot;q&quot;');
    expect(svg).not.toContain('<b>x</b>');
    expect(lineChart([], { title: 'empty' })).toContain('empty: no data in these runs.');
  });
});

describe('HTML report', () => {
  it('is self-contained, escapes user text and shows the expected tables and series', async () => {
    const uniform = writeSyntheticRun(root, 'uniform-s0', 'uniform', 0, { steps: 300 });
    const lin0 = writeSyntheticRun(root, 'linupper-s0', 'linupper', 0, { steps: 300, gain: 0.08 });
    const lin1 = writeSyntheticRun(root, 'linupper-s1', 'linupper', 1, { steps: 300, gain: 0.08 });
    const evil = writeSyntheticRun(root, 'evil', 'quadratic', 0, {
      steps: 300,
      label: '<img src=x onerror=alert(1)>&',
    });
    const out = join(root, 'out', 'report.html');
    const html = await writeReport([uniform.dir, lin0.dir, lin1.dir, evil.dir], out, {
      title: '<script>alert("t")</script>',
      generatedAt: new Date('2026-01-02T03:04:05Z'),
    });

    // self-contained: nothing to fetch, no script
    expect(html).not.toMatch(/https?:\/\//);
    // (user text is escaped, so every '<' starts a real tag)
    const tags = html.match(/<[a-z][^>]*>/gi)!;
    expect(
      tags.filter((t) => /^<(script|link|iframe|img|object|embed|audio|video)\b/i.test(t)),
    ).toEqual([]);
    // attribute values hold escaped user text (no '"'), so blank them before looking at names
    const names = tags.map((t) => t.replace(/="[^"]*"/g, '=""'));
    expect(names.filter((t) => /\s(src|srcset|xlink:href|on[a-z]+)=/i.test(t))).toEqual([]);
    for (const t of tags)
      for (const [, href] of t.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^#/);
    expect(html).not.toMatch(/@import|url\((?!#)/i);
    // user strings are escaped
    expect(html).toContain('&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&amp;');
    expect(html).toContain('generated 2026-01-02 03:04:05 UTC');

    // the perplexity table holds the results.json numbers: uniform and the mean of two seeds
    const cell = (domain: string, label: string) => {
      const row = new RegExp(`<tr><th scope="row">${domain}</th>(.*?)</tr>`).exec(html)![1]!;
      return new RegExp(`data-label="${label}">([^<]+)`).exec(row)![1]!.trim();
    };
    const ppl = (r: typeof uniform, d: string) => r.results.domains[d]!.perplexity;
    expect(cell('arxiv', 'uniform')).toBe(ppl(uniform, 'arxiv').toFixed(2));
    expect(cell('github', 'linupper')).toBe(
      ((ppl(lin0, 'github') + ppl(lin1, 'github')) / 2).toFixed(2),
    );
    // Δ: the paired difference with uniform's one seed (seed 0): one pair, no interval, no colour
    const delta = ppl(lin0, 'cc') - ppl(uniform, 'cc');
    expect(html).toMatch(
      new RegExp(
        `data-label="linupper">${((ppl(lin0, 'cc') + ppl(lin1, 'cc')) / 2).toFixed(2)} <span class="std">± [\\d.]+</span></td><td class="num delta" title="one seed: no interval">${delta.toFixed(2).replace('-', '−')}</td>`,
      ),
    );
    expect(html).toContain('<tr class="mean"><th scope="row">mean</th>');

    // one chart per section item, one legend entry per label, the cap line and per-domain charts
    for (const title of [
      'Training loss, plain batch mean',
      'Validation loss, mean over domains',
      'n · max weight',
      'Effective sample size / n',
      'ρ̂ = Σ wᵢlᵢ − mean loss',
      'Learning rate',
      'Throughput',
      'wikipedia',
    ]) {
      expect(html).toContain(`aria-label="${title}`);
    }
    expect(html).toContain('2/n cap (Theorem 1)');
    const lossChart =
      /<figure class="chart"><svg[^>]*aria-label="Training loss[\s\S]*?<\/figure>/.exec(html)![0];
    expect(lossChart.match(/<path class="line"/g)).toHaveLength(4); // one per run
    expect(lossChart.match(/<li>/g)).toHaveLength(3); // one per label
    expect(html.match(/<figure class="chart">/g)!.length).toBeGreaterThanOrEqual(2 + 7 + 5 + 3);
    // the runs table counts the skipped step of each reweighted run
    expect(html).toMatch(
      /linupper-s0<\/td><td class="num">0<\/td><td class="num">300<\/td>.*?<td class="num">1<\/td>/,
    );
  });

  it('falls back to the last evaluation when results.json is missing, and names bad input', async () => {
    const only = writeSyntheticRun(root, 'no-results', 'linupper', 3, { steps: 200 });
    rmSync(join(only.dir, 'results.json'));
    writeFileSync(join(only.dir, 'config.json'), JSON.stringify({ method: 'linupper', seed: 3 }));
    const loaded = loadReportRun(only.dir);
    expect(loaded).toMatchObject({
      label: 'linupper',
      seed: 3,
      config: { method: 'linupper', seed: 3 },
    });
    expect(loaded.results!.steps).toBe(200);
    expect(renderReport([loaded])).toContain('<th>linupper</th>');

    expect(() => loadReportRun(join(root, 'nope'))).toThrow(/Run directory .*nope does not exist/);
    mkdirSync(join(root, 'empty'));
    expect(() => loadReportRun(join(root, 'empty'))).toThrow(/has no metrics\.jsonl\.\nHINT:/);
    writeFileSync(join(only.dir, 'results.json'), '{"domains": 3}');
    expect(() => loadReportRun(only.dir)).toThrow(/is not a run result: it needs "method"/);
    await writeRunResults(only.dir, {
      method: 'linupper',
      domains: { a: { loss: 1, perplexity: Math.E } },
    });
    expect(loadReportRun(only.dir).results!.domains.a!.perplexity).toBe(Math.E);
    expect(() => renderReport([])).toThrow(/no runs given/);
  });
});

describe('lineChart y range', () => {
  it('fits the y axis to points after yRangeFromX, and falls back to all points', () => {
    const points: [number, number][] = [
      [0, 100],
      [50, 3],
      [100, 2],
    ];
    const focused = lineChart([{ name: 'a', color: '#000', points }], {
      title: 't',
      yRangeFromX: 40,
    });
    const ticks = (svg: string) =>
      [...svg.matchAll(/class="tick" x="52"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(ticks(focused)).toEqual(['2', '2.2', '2.4', '2.6', '2.8', '3']);
    const fallback = lineChart([{ name: 'a', color: '#000', points }], {
      title: 't',
      yRangeFromX: 1000,
    });
    expect(ticks(fallback)).toEqual(['0', '20', '40', '60', '80', '100']);
  });
});

describe('domain weights section', () => {
  const online: ReportRun = {
    name: 'doremi-proxy',
    label: 'doremi proxy',
    seed: 0,
    train: [1, 2, 3].map((step) => ({
      kind: 'train' as const,
      step,
      loss: 1,
      meanLoss: 1,
      lr: 1e-3,
      domainWeights: { books: 0.5 + 0.1 * step, code: 0.5 - 0.1 * step },
    })),
    eval: [],
  };

  it('plots a line per domain for online runs and for trajectories passed in', () => {
    const html = renderReport([run('uniform', { books: 10 }), online], {
      domainWeightTrajectories: [
        {
          title: 'doge <proxy>',
          trajectory: [
            { step: 1, weights: { books: 0.4, code: 0.6 } },
            { step: 2, weights: { books: 0.3, code: 0.7 } },
          ],
        },
      ],
    });
    expect(html).toContain('<section id="domain-weights"><h2>Domain weights</h2>');
    const chart = (title: string) =>
      new RegExp(`<figure class="chart"><svg[^>]*aria-label="${title}[\\s\\S]*?</figure>`).exec(
        html,
      )![0];
    const a = chart('doremi proxy \\(seed 0\\): domain weights');
    expect(a.match(/<path class="line"/g)).toHaveLength(2); // books and code
    expect(a).toContain('books');
    const b = chart('doge &lt;proxy&gt;: domain weights');
    expect(b.match(/<path class="line"/g)).toHaveLength(2);
  });

  it('is left out when no run changed its mixture', () => {
    expect(renderReport([run('uniform', { books: 10 })])).not.toContain('id="domain-weights"');
  });
});

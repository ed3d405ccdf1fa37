import { describe, expect, it } from 'vitest';
import { formatPairedDifferences } from './cli/tables.js';
import { renderReport } from './html-report.js';
import { pairBySeed, pairedDifference } from './paired-difference.js';
import { comparisonTable, type ReportRun } from './report-data.js';

function run(
  label: string,
  seed: number | undefined,
  domains: Record<string, number>,
  tasks?: Record<string, number>,
): ReportRun {
  const r: ReportRun = {
    name: `${label}-s${seed}`,
    label,
    train: [],
    eval: [],
    results: {
      method: label,
      domains: Object.fromEntries(
        Object.entries(domains).map(([d, p]) => [d, { loss: Math.log(p), perplexity: p }]),
      ),
      ...(tasks ? { tasks } : {}),
    },
  };
  if (seed !== undefined) r.seed = seed;
  return r;
}

function expectAll(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  for (const [i, v] of expected.entries()) expect(actual[i]).toBeCloseTo(v, 12);
}

const perplexity = (r: NonNullable<ReportRun['results']>) =>
  Object.fromEntries(Object.entries(r.domains).map(([d, v]) => [d, v.perplexity]));

describe('pairedDifference', () => {
  it('gives mean, std and the Student-t interval (hand computation, 3 seeds)', () => {
    // differences 0.5, 0.7, 0.6: mean 0.6, std sqrt((0.01 + 0.01 + 0) / 2) = 0.1,
    // half-width t_{0.975,2} * 0.1 / sqrt(3) = 4.302653 * 0.057735 = 0.248414
    const p = pairedDifference([0, 1, 2], [0.5, 0.7, 0.6]);
    expect(p.n).toBe(3);
    expect(p.mean).toBeCloseTo(0.6, 12);
    expect(p.std).toBeCloseTo(0.1, 12);
    expect(p.interval!.df).toBe(2);
    expect(p.interval!.t).toBeCloseTo(4.302653, 5);
    expect(p.interval!.low).toBeCloseTo(0.351586, 5);
    expect(p.interval!.high).toBeCloseTo(0.848414, 5);
    expect(p.excludesZero).toBe(true);
  });

  it('keeps 0 inside when the seeds disagree (5 seeds, t_{0.975,4} = 2.776)', () => {
    // differences -1, 0, 1, 2, 3: mean 1, std sqrt(10 / 4) = 1.581139, half-width
    // 2.776445 * 1.581139 / sqrt(5) = 1.963243
    const p = pairedDifference([0, 1, 2, 3, 4], [-1, 0, 1, 2, 3]);
    expect(p.std).toBeCloseTo(1.581139, 5);
    expect(p.interval!.low).toBeCloseTo(1 - 1.963243, 5);
    expect(p.interval!.high).toBeCloseTo(1 + 1.963243, 5);
    expect(p.excludesZero).toBe(false);
  });

  it('gives no interval for one seed, and a 90% one on request', () => {
    const one = pairedDifference([4], [0.3]);
    expect(one).toEqual({ seeds: [4], differences: [0.3], n: 1, mean: 0.3, std: 0 });
    // 2 seeds, 90%: t_{0.95,1} = 6.313752; differences 1, 3: mean 2, std sqrt(2)
    const p = pairedDifference([0, 1], [1, 3], 0.9);
    expect(p.interval!.high - 2).toBeCloseTo((6.313752 * Math.SQRT2) / Math.SQRT2, 5);
    expect(() => pairedDifference([], [])).toThrow(/one difference per seed/);
    expect(() => pairedDifference([0], [1], 1)).toThrow(/confidence/);
  });

  it('pairs by seed: only the seeds both ran, in seed order', () => {
    const p = pairBySeed(
      new Map([
        [2, 10],
        [0, 12],
        [5, 1],
      ]),
      new Map([
        [0, 11],
        [2, 11],
        [3, 7],
      ]),
    )!;
    expect(p.seeds).toEqual([0, 2]);
    expect(p.differences).toEqual([1, -1]);
    expect(pairBySeed(new Map([[1, 1]]), new Map([[2, 1]]))).toBeUndefined();
  });
});

describe('comparisonTable paired differences', () => {
  // uniform / linupper per seed (perplexity), and by hand:
  //   web:  linupper - uniform = 19 - 20, 20.5 - 21, 18 - 19.2 = -1, -0.5, -1.2
  //   code: 10 - 9, 11 - 10, 10.5 - 9.5 = 1, 1, 1 (std 0: a zero-width interval at +1)
  //   mean: per seed (web + code) / 2: -0, 0.25, -0.1
  const runs = [
    run('uniform', 0, { web: 20, code: 9 }, { piqa: 0.5 }),
    run('uniform', 1, { web: 21, code: 10 }, { piqa: 0.52 }),
    run('uniform', 2, { web: 19.2, code: 9.5 }, { piqa: 0.51 }),
    run('linupper', 0, { web: 19, code: 10 }, { piqa: 0.53 }),
    run('linupper', 1, { web: 20.5, code: 11 }, { piqa: 0.55 }),
    run('linupper', 2, { web: 18, code: 10.5 }, { piqa: 0.54 }),
  ];

  it('matches the hand computation per domain and for the mean over domains', () => {
    const t = comparisonTable(runs, perplexity);
    const web = t.cells.web!.linupper!.paired!;
    expect(web.seeds).toEqual([0, 1, 2]);
    expectAll(web.differences, [-1, -0.5, -1.2]);
    expect(web.mean).toBeCloseTo(-0.9, 12);
    // std of -1, -0.5, -1.2 around -0.9: sqrt((0.01 + 0.16 + 0.09) / 2) = sqrt(0.13)
    expect(web.std).toBeCloseTo(Math.sqrt(0.13), 12);
    const half = (4.302653 * Math.sqrt(0.13)) / Math.sqrt(3);
    expect(web.interval!.low).toBeCloseTo(-0.9 - half, 5);
    expect(web.interval!.high).toBeCloseTo(-0.9 + half, 5);
    expect(web.excludesZero).toBe(true); // -0.9 +- 0.896: just below 0
    const code = t.cells.code!.linupper!.paired!;
    expect(code.mean).toBeCloseTo(1, 12);
    expect(code.excludesZero).toBe(true);
    const mean = t.cells.mean!.linupper!.paired!;
    expectAll(mean.differences, [0, 0.25, -0.1]);
    expect(mean.excludesZero).toBe(false);
    expect(t.cells.mean!.uniform!.paired).toBeUndefined();
    expect(t.confidence).toBe(0.95);
  });

  it('applies to few-shot accuracies the same way', () => {
    const t = comparisonTable(runs, (r) => r.tasks);
    const p = t.cells.piqa!.linupper!.paired!;
    expectAll(p.differences, [0.03, 0.03, 0.03]);
    expect(p.excludesZero).toBe(true);
  });

  it('does not pair runs without seeds or with a repeated seed', () => {
    const noSeed = comparisonTable(
      [run('uniform', undefined, { a: 1 }), run('b', 0, { a: 2 })],
      perplexity,
    );
    expect(noSeed.cells.a!.b!.delta).toBe(1);
    expect(noSeed.cells.a!.b!.paired).toBeUndefined();
    const repeated = comparisonTable(
      [run('uniform', 0, { a: 1 }), run('b', 0, { a: 2 }), run('b', 0, { a: 3 })],
      perplexity,
    );
    expect(repeated.cells.a!.b!.paired).toBeUndefined();
  });

  it('prints the differences with their intervals, and says when one seed gives none', () => {
    const text = formatPairedDifferences(comparisonTable(runs, perplexity), {
      title: 'Perplexity',
    });
    const half = (4.302653 * Math.sqrt(0.13)) / Math.sqrt(3); // 0.8957
    expect(text).toContain(
      'Perplexity — difference from uniform with the same seed, mean [95% Student-t interval] over 3 seeds; * the interval excludes 0',
    );
    expect(text).toContain(`-0.90 [${(-0.9 - half).toFixed(2)}, ${(-0.9 + half).toFixed(2)}] *`);
    expect(text).toMatch(/code\s+\+1\.00 \[\+1\.00, \+1\.00\] \*/);
    expect(text).toMatch(/mean\s+\+0\.05 \[-0\.\d\d, \+0\.\d\d\]\n/);
    const single = formatPairedDifferences(
      comparisonTable(
        [run('uniform', 0, { web: 20 }), run('linupper', 0, { web: 19 })],
        perplexity,
      ),
    );
    expect(single).toContain('one seed gives no interval');
    expect(single).toMatch(/web\s+-1\.00 \(1 seed: no interval\)/);
    expect(single).not.toContain('[');
  });

  it('marks in the HTML report only the differences whose interval excludes 0', () => {
    const html = renderReport(runs, { generatedAt: new Date(0) });
    const row = (name: string) =>
      new RegExp(`<tr(?: class="mean")?><th scope="row">${name}</th>(.*?)</tr>`).exec(html)![1]!;
    expect(row('web')).toMatch(
      /<td class="num delta better" title="3 seeds; 95% interval[^"]*">−0\.90\* <span class="ci">\[−1\.80, −0\.00\]<\/span><\/td>/,
    );
    expect(row('code')).toContain('class="num delta worse"');
    expect(row('mean')).toMatch(
      /<td class="num delta" title="3 seeds[^"]*">\+0\.05 <span class="ci">/,
    );
    expect(html).toContain(
      '95% Student-t interval; coloured and marked * when the interval excludes 0',
    );
    // one seed: no colour, no interval
    const one = renderReport([runs[0]!, runs[3]!], { generatedAt: new Date(0) });
    expect(one).toContain('<td class="num delta" title="one seed: no interval">−1.00</td>');
    expect(one).toContain('with one seed no interval exists');
    expect(one).not.toContain('class="ci"');
  });
});

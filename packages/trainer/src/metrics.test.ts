import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainStepRecord } from './metrics-record.js';
import { MetricsWriter, parseMetrics, readMetrics } from './metrics-writer.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function metricsPath(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lrw-metrics-'));
  dirs.push(d);
  return join(d, 'metrics.jsonl');
}

function step(n: number, extra: Partial<TrainStepRecord> = {}): TrainStepRecord {
  return {
    kind: 'train',
    step: n,
    loss: 3 - n / 10,
    meanLoss: 3.1 - n / 10,
    lr: 1e-4 * n,
    ...extra,
  };
}

describe('MetricsWriter', () => {
  it('writes one JSON line per record with every field, non-finite numbers as null', async () => {
    const path = await metricsPath();
    const w = await MetricsWriter.open(path);
    w.write(
      step(1, {
        domainLoss: { arxiv: 2.5, github: 1.25 },
        gradNorm: 0.75,
        tokensPerSecond: 12345,
        weights: { maxWeightTimesN: 2.33, capHolds: false, effectiveSampleSize: 5.5, entropy: 1.9 },
        rhoHat: 0.12,
        r: Number.POSITIVE_INFINITY,
      }),
    );
    w.write(step(2, { loss: Number.NaN, skipped: 'non-finite-loss' }));
    w.write({
      kind: 'eval',
      step: 2,
      loss: 2.2,
      domainLoss: { arxiv: 2.2 },
      domainPerplexity: { arxiv: 9.025 },
    });
    w.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      step: 1,
      r: null,
      weights: { capHolds: false },
      domainLoss: { github: 1.25 },
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ loss: null, skipped: 'non-finite-loss' });
    const parsed = readMetrics(path);
    expect(parsed.train.map((r) => r.step)).toEqual([1, 2]);
    expect(parsed.eval).toEqual([
      {
        kind: 'eval',
        step: 2,
        loss: 2.2,
        domainLoss: { arxiv: 2.2 },
        domainPerplexity: { arxiv: 9.025 },
      },
    ]);
    expect(() => w.write(step(3))).toThrow(/is closed/);
  });

  it('refuses to append a new run to an old file', async () => {
    const path = await metricsPath();
    const w = await MetricsWriter.open(path);
    w.write(step(1));
    w.close();
    await expect(MetricsWriter.open(path)).rejects.toThrow(
      /already has records.*\nHINT: use a new output directory/s,
    );
  });

  it('on resume keeps steps up to the checkpoint and drops later ones and a cut-off line', async () => {
    const path = await metricsPath();
    const w = await MetricsWriter.open(path);
    for (let n = 1; n <= 6; n++) w.write(step(n));
    w.close();
    await writeFile(path, `${await readFile(path, 'utf8')}{"kind":"train","step":7,"lo`); // killed mid-line
    expect(readMetrics(path).truncatedLastLine).toBe(true);
    const resumed = await MetricsWriter.open(path, { resumeAfterStep: 4 });
    resumed.write(step(5, { loss: 42 }));
    resumed.close();
    const parsed = readMetrics(path);
    expect(parsed.train.map((r) => [r.step, r.loss])).toEqual([
      [1, 2.9],
      [2, 2.8],
      [3, 2.7],
      [4, 2.6],
      [5, 42],
    ]);
    expect(parsed.truncatedLastLine).toBe(false);
  });

  it('names the file and line of a bad record', () => {
    expect(() =>
      parseMetrics('{"kind":"train","step":1}\nnot json\n{}\n', 'run/metrics.jsonl'),
    ).toThrow(/run\/metrics\.jsonl:2 is not valid JSON/);
    expect(() => parseMetrics('{"kind":"other","step":1}\n', 'm.jsonl')).toThrow(
      /m\.jsonl:1 is not a metrics record/,
    );
    expect(() => readMetrics('/nonexistent/metrics.jsonl')).toThrow(/cannot be read \(ENOENT\)/);
    // a complete last record without its newline is kept
    expect(parseMetrics('{"kind":"train","step":1}').train).toHaveLength(1);
  });
});

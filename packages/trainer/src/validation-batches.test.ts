import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dataset, openDataset, prepare } from '@lrw/data';
import type { TokenBatch } from '@lrw/eval';
import { createModel } from '@lrw/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateModel } from './evaluate.js';
import { trainRun } from './run-training.js';
import { SMALL_CONFIG, SMALL_MODEL, TEXT_DIR } from './training.test-helpers.js';
import { validationBatches, validationBudget, validationDomains } from './validation-batches.js';

// An imbalanced corpus: "big" holds every paragraph of the books fixture (80 kB), "small" four
// 300-character pieces of the speeches one; half of each goes to validation.
let root: string;
let dataDir: string;
let dataset: Dataset;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lrw-validation-'));
  dataDir = join(root, 'data');
  const paragraphs = (file: string) =>
    readFileSync(join(TEXT_DIR, file), 'utf8')
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter((p) => p.length > 80);
  const documents = [
    ...paragraphs('books.txt').map((text) => ({ text, domain: 'big' })),
    ...[0, 1, 2, 3].map((i) => ({
      text: paragraphs('speeches.txt')[0]!.slice(i * 300, (i + 1) * 300),
      domain: 'small',
    })),
  ];
  await prepare({
    sources: [{ type: 'documents', documents }],
    tokenizer: 'byte',
    validation: { fraction: 0.5 },
    workers: 0,
    outDir: dataDir,
  });
  dataset = await openDataset(dataDir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const domainsOf = (batches: TokenBatch[]) => {
  const seen = new Set<string>();
  for (const b of batches) {
    for (const d of b.domainIds ?? []) if (d >= 0) seen.add(dataset.domains[d]!);
  }
  return [...seen].sort();
};

async function collect(source: AsyncIterable<TokenBatch>, max = Infinity): Promise<TokenBatch[]> {
  const out: TokenBatch[] = [];
  for await (const b of source) {
    out.push(b);
    if (out.length >= max) break;
  }
  return out;
}

describe('validationBatches', () => {
  const shape = { batchSize: 4, seqLen: 32 };

  it('covers every domain with validation data, where the natural mixture misses the small one', async () => {
    expect(validationDomains(dataset)).toEqual(['big', 'small']);
    const natural = dataset.stream({
      split: 'validation',
      ...shape,
      seed: 0,
      shuffle: false,
      prefetch: 0,
    });
    const first = await collect(natural, 1);
    await natural.close();
    expect(domainsOf(first)).toEqual(['big']); // the gap: one natural batch has no "small" row
    const ours = await collect(validationBatches(dataset, { ...shape, maxBatches: 1 }));
    expect(ours).toHaveLength(2); // at least one batch per domain
    expect(domainsOf(ours)).toEqual(['big', 'small']);
    // each batch holds one domain's rows only
    for (const b of ours) expect(new Set([...b.domainIds!].filter((d) => d >= 0)).size).toBe(1);
  });

  it('splits the batch budget among the domains, deterministically', async () => {
    expect(validationBudget(2, 5)).toBe(3);
    expect(validationBudget(5, 4)).toBe(1);
    expect(validationBudget(3, undefined)).toBe(Infinity);
    const a = await collect(validationBatches(dataset, { ...shape, maxBatches: 4 }));
    const b = await collect(validationBatches(dataset, { ...shape, maxBatches: 4 }));
    expect(a.length).toBeLessThanOrEqual(4);
    expect(a.map((x) => Array.from(x.tokens))).toEqual(b.map((x) => Array.from(x.tokens)));
    const all = await collect(validationBatches(dataset, shape));
    expect(all.length).toBeGreaterThan(a.length);
  });

  it('gives an overall loss that is the token-weighted mean of the per-domain losses', async () => {
    const model = createModel(
      { arch: 'gpt2', vocabSize: dataset.vocabSize, contextLength: 32, ...SMALL_MODEL },
      { seed: 1 },
    );
    try {
      const report = await evaluateModel(
        model,
        validationBatches(dataset, { ...shape, maxBatches: 4 }),
        {
          domains: dataset.domains,
        },
      );
      const ds = Object.values(report.domains);
      expect(Object.keys(report.domains).sort()).toEqual(['big', 'small']);
      const tokens = ds.reduce((s, d) => s + d.tokens, 0);
      expect(report.overall.tokens).toBe(tokens);
      expect(report.overall.loss).toBeCloseTo(
        ds.reduce((s, d) => s + d.loss * d.tokens, 0) / tokens,
        10,
      );
    } finally {
      model.dispose();
    }
  });

  it("is the trainer's validation pass: a run with evalBatches 1 reports every domain", async () => {
    const outDir = join(root, 'run');
    const { results } = await trainRun(
      { ...SMALL_CONFIG, batchSize: 4, steps: 1, checkpointInterval: 0 },
      { dataDir, outDir, modelOverrides: SMALL_MODEL, progress: false, evalBatches: 1 },
    );
    expect(Object.keys(results.domains).sort()).toEqual(['big', 'small']);
  });
});

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Dataset, openDataset } from '../dataset.js';
import { UnknownDomainError } from '../errors.js';
import { fixture, HAVE_SHARED, SHARED_CORPORA, tempDir } from '../fixtures.test-helpers.js';
import { readSources } from '../sources/read-source.js';
import type { SourceSpec } from '../sources/source.js';
import { createTokenizer, type Tokenizer } from '../tokenizers/tokenizer.js';
import { prepare } from './prepare.js';
import type { PrepareProgress } from './progress.js';
import { validationCount } from './split-plan.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

const fixtureSources: SourceSpec[] = [
  { type: 'jsonl', path: fixture('slimpajama-sample.jsonl.zst'), schema: 'slimpajama' },
  { type: 'jsonl', path: fixture('dolma-sample.jsonl'), schema: 'dolma' },
  {
    type: 'text',
    path: fixture('tinyshakespeare-excerpt.txt'),
    split: 'paragraph',
    domain: 'shakespeare',
  },
];

async function originals(sources: SourceSpec[]): Promise<Map<string, string[]>> {
  const byDomain = new Map<string, string[]>();
  for await (const doc of readSources(sources)) {
    if (doc.text === '') continue;
    byDomain.set(doc.domain, [...(byDomain.get(doc.domain) ?? []), doc.text]);
  }
  return byDomain;
}

const streamCache = new WeakMap<
  Dataset,
  { train: Map<string, string[]>; validation: Map<string, string[]> }
>();

/** Documents rebuilt from the targets of stream rows (document packing), per domain, both splits. */
async function streamedTexts(ds: Dataset, tokenizer: Tokenizer) {
  const cached = streamCache.get(ds);
  if (cached) return cached;
  const result = { train: new Map<string, string[]>(), validation: new Map<string, string[]>() };
  const T = 256;
  for (const split of ['train', 'validation'] as const) {
    if (!ds.index.shards.some((s) => s.split === split)) continue;
    const stream = ds.stream({
      batchSize: 8,
      seqLen: T,
      split,
      packing: 'document',
      shuffle: false,
      exhaustion: 'renormalise',
      prefetch: 0,
    });
    const open = new Map<number, number[]>();
    for await (const b of stream) {
      for (let r = 0; r < b.rows; r++) {
        const d = b.domainIds[r];
        for (let k = r * T; k < (r + 1) * T && b.mask[k] === 1; k++) {
          const t = b.targets[k];
          if (!open.has(d)) open.set(d, []);
          if (t !== ds.eotId) (open.get(d) as number[]).push(t);
          else {
            const name = ds.domains[d];
            if (!result[split].has(name)) result[split].set(name, []);
            result[split].get(name)?.push(tokenizer.decode(open.get(d) as number[]));
            open.set(d, []);
          }
        }
      }
    }
  }
  streamCache.set(ds, result);
  return result;
}

/** Every stored and every streamed document decodes to its source text; train + validation are exactly the sources. */
async function expectRoundTrip(
  dir: string,
  sources: SourceSpec[],
  tokenizer: Tokenizer,
): Promise<void> {
  const ds = await openDataset(dir);
  const expected = await originals(sources);
  expect([...ds.domains]).toEqual([...expected.keys()].sort());
  for (const [domain, texts] of expected) {
    const train = [...ds.documents('train', domain)].map((d) => tokenizer.decode(d.tokens));
    const validation = [...ds.documents('validation', domain)].map((d) =>
      tokenizer.decode(d.tokens),
    );
    expect(validation.length).toBe(validationCount(texts.length, ds.index.validation));
    expect([...train, ...validation].sort()).toEqual([...texts].sort());
    // The stream (document packing, unshuffled, one pass) gives the same documents in order.
    const streamed = await streamedTexts(ds, tokenizer);
    expect(streamed.train.get(domain) ?? []).toEqual(train);
    expect(streamed.validation.get(domain) ?? []).toEqual(validation);
    // Training documents keep their reading order: they are a subsequence of the sources.
    let at = 0;
    for (const text of texts) if (at < train.length && train[at] === text) at++;
    expect(at).toBe(train.length);
  }
}

describe('prepare', () => {
  it('round-trips the committed fixtures (GPT-2, 2 workers): decode(stored) == decode(streamed) == source text', async () => {
    const dir = join(tmp.dir, 'fixtures-gpt2');
    const reports: PrepareProgress[] = [];
    const result = await prepare({
      sources: fixtureSources,
      outDir: dir,
      tokenizer: 'gpt2',
      workers: 2,
      validation: { fraction: 0.2 },
      shardTextBytes: 8 * 1024,
      onProgress: (p) => reports.push(p),
      progressIntervalMs: 0,
    });
    expect(result.shardsWritten).toBeGreaterThan(5);
    expect(result.index.tokenBytes).toBe(2);
    await expectRoundTrip(dir, fixtureSources, await createTokenizer('gpt2'));
    const last = reports.at(-1) as PrepareProgress;
    expect(last.phase).toBe('done');
    expect(last.documents).toBe(last.totalDocuments);
    expect(last.textBytes).toBe(last.totalTextBytes);
    expect(last.tokens).toBe(
      Object.values(result.index.stats.train).reduce((n, s) => n + s.tokens, 0) +
        Object.values(result.index.stats.validation).reduce((n, s) => n + s.tokens, 0),
    );
    expect(last.tokensPerSecond).toBeGreaterThan(0);
    expect(reports.some((r) => r.phase === 'tokenize' && Number.isFinite(r.etaSeconds))).toBe(true);

    // Same shards with tokenization on this thread.
    const local = await prepare({
      sources: fixtureSources,
      outDir: join(tmp.dir, 'fixtures-gpt2-local'),
      tokenizer: 'gpt2',
      workers: 0,
      validation: { fraction: 0.2 },
      shardTextBytes: 8 * 1024,
    });
    expect(local.index.shards.map((s) => [s.file, s.payloadCrc])).toEqual(
      result.index.shards.map((s) => [s.file, s.payloadCrc]),
    );
  });

  it('re-running skips finished shards and rebuilds only a corrupted one', async () => {
    const dir = join(tmp.dir, 'rerun');
    const options = {
      sources: fixtureSources,
      outDir: dir,
      tokenizer: 'byte' as const,
      workers: 0,
      shardTextBytes: 4096,
      validation: { documents: 1 },
    };
    const first = await prepare(options);
    const n = first.index.shards.length;
    expect(first.shardsWritten).toBe(n);
    const again = await prepare(options);
    expect([again.shardsWritten, again.shardsSkipped]).toEqual([0, n]);
    expect(again.index).toEqual(first.index);
    const victim = join(dir, first.index.shards[2].file);
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(victim, bytes);
    const repaired = await prepare(options);
    expect([repaired.shardsWritten, repaired.shardsSkipped]).toEqual([1, n - 1]);
    expect(repaired.index).toEqual(first.index);
    // A different tokenizer changes every fingerprint: nothing is skipped (replacing a dataset
    // of another tokenizer needs overwrite).
    const gpt2 = await prepare({ ...options, tokenizer: 'gpt2', overwrite: true });
    expect(gpt2.shardsSkipped).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('splits each domain deterministically by seed, with a document count or fraction', async () => {
    const run = async (seed: number, name: string) =>
      (
        await prepare({
          sources: fixtureSources,
          outDir: join(tmp.dir, name),
          tokenizer: 'byte',
          workers: 0,
          seed,
          validation: { documents: 2 },
        })
      ).index;
    const a = await run(1, 'split-a');
    const b = await run(1, 'split-b');
    const c = await run(2, 'split-c');
    const valIds = (index: typeof a) =>
      index.shards
        .filter((s) => s.split === 'validation')
        .map((s) => `${s.domain}:${s.fingerprint}`);
    expect(valIds(a)).toEqual(valIds(b));
    expect(valIds(a)).not.toEqual(valIds(c));
    for (const stats of Object.values(a.stats.validation)) expect(stats.documents).toBe(2);
    expect(validationCount(10, { fraction: 0.05 })).toBe(1);
    expect(validationCount(1, { fraction: 0.5 })).toBe(0);
    expect(validationCount(100, { fraction: 0.1 })).toBe(10);
    expect(validationCount(5, { documents: 9 })).toBe(4);
  });

  it('applies per-domain budgets and rejects domains outside options.domains', async () => {
    const budget = await prepare({
      sources: fixtureSources,
      outDir: join(tmp.dir, 'budget'),
      tokenizer: 'byte',
      workers: 0,
      maxDocumentsPerDomain: 3,
      validation: { documents: 0 },
    });
    for (const stats of Object.values(budget.index.stats.train)) expect(stats.documents).toBe(3);
    const error = await prepare({
      sources: fixtureSources,
      outDir: join(tmp.dir, 'domains'),
      tokenizer: 'byte',
      workers: 0,
      domains: ['shakespeare'],
    }).catch((e) => e);
    expect(error).toBeInstanceOf(UnknownDomainError);
    expect(error.message).toMatch(
      /unknown domain "RedPajama\w+" in the sources \(not in options.domains\); known domains: shakespeare/,
    );
  });
});

describe.skipIf(!HAVE_SHARED)('prepare on the shared corpora', () => {
  it('round-trips every document of every shared corpus through GPT-2 shards and the stream', async () => {
    const c = SHARED_CORPORA;
    const sources: SourceSpec[] = [
      { type: 'jsonl', path: join(c, 'datajuicer_redpajama'), schema: 'text' },
      { type: 'jsonl', path: join(c, 'dolma_cc'), schema: 'dolma' },
      { type: 'text', path: join(c, 'tinyshakespeare', 'input.txt'), split: 'paragraph' },
    ];
    const dir = join(tmp.dir, 'shared');
    const result = await prepare({
      sources,
      outDir: dir,
      tokenizer: 'gpt2',
      workers: 2,
      shardTextBytes: 256 * 1024,
    });
    expect(result.index.domains).toEqual([
      'arxiv',
      'common-crawl',
      'input',
      'redpajama-c4-refined',
      'redpajama-cc-2023-06-refined',
      'redpajama-pile-stackexchange-refined',
      'stack_exchange',
    ]);
    await expectRoundTrip(dir, sources, await createTokenizer('gpt2'));
  });
});

describe('prepare with a custom tokenizer module', () => {
  it('reports an error thrown inside a tokenizer worker as the error of prepare()', async () => {
    const spec = { module: pathToFileURL(fixture('failing-tokenizer.mjs')).href };
    const error = await prepare({
      sources: fixtureSources,
      outDir: join(tmp.dir, 'failing'),
      tokenizer: spec,
      workers: 1,
      shardTextBytes: 512,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('cannot tokenize a Citizen');
  });

  it('loads the module in the workers and writes uint32 shards for a vocabulary over 65536', async () => {
    const spec = { module: pathToFileURL(fixture('utf16-tokenizer.mjs')).href };
    const dir = join(tmp.dir, 'utf16');
    const result = await prepare({
      sources: fixtureSources,
      outDir: dir,
      tokenizer: spec,
      workers: 1,
      validation: { documents: 1 },
    });
    expect(result.index.tokenBytes).toBe(4);
    expect(result.index.tokenizer).toMatchObject({ name: 'utf16', vocabSize: 65537, eotId: 65536 });
    await expectRoundTrip(dir, fixtureSources, await createTokenizer(spec));
    const ds = await openDataset(dir);
    // Unshuffled, the first row is chunk 0 of a shard: it starts with end-of-text 65536 (> uint16).
    const b = await ds.stream({ batchSize: 1, seqLen: 8, shuffle: false, prefetch: 0 }).next();
    expect(b?.tokens[0]).toBe(65536);
  });
});

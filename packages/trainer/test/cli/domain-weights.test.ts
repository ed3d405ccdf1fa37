import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareResults } from '../../src/cli/commands/compare.js';
import type { TrainerConfig } from '../../src/config.js';
import type { TrainStepRecord } from '../../src/metrics-record.js';
import { readMetrics } from '../../src/metrics-writer.js';
import type { DomainWeightsFile } from '../../src/online-domain-weights.js';
import { lrw } from './cli-harness.js';

// lrw doremi / lrw doge / lrw train --domain-weights <file> / --domain-reweighting and
// lrw compare --mixtures on the two-domain tiny corpus (byte tokenizer, nano GPT, 4 steps).
const corpus = fileURLToPath(new URL('./fixtures/tiny-corpus/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lrw-cli-domains-'));
const data = join(root, 'data');
const budget = ['--steps', '4', '--seq-len', '16', '--batch-size', '2', '--lr', '1e-3'];
const quick = [...budget, '--eval-interval', '0', '--eval-batches', '1'];
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const trains = (dir: string) =>
  readMetrics(join(dir, 'metrics.jsonl')).records.filter(
    (r): r is TrainStepRecord => r.kind === 'train',
  );

beforeAll(async () => {
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
  expect(r.code, r.stderr).toBe(0);
}, 30_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lrw doremi and lrw doge', () => {
  it('doremi trains a reference and a proxy and writes the mean weights with their trajectory', async () => {
    const out = join(root, 'doremi');
    const r = await lrw('doremi', '--data', data, '--out', out, ...quick);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`[1/2] reference -> ${join(out, 'reference')}`);
    expect(r.stdout).toMatch(/DoReMi domain weights over 4 steps/);
    const w = readJson<DomainWeightsFile>(join(out, 'domain-weights.json'));
    expect(w).toMatchObject({ kind: 'lrw-domain-weights', method: 'doremi', steps: 4 });
    expect(w.reference).toBe(join(out, 'reference'));
    expect(w.trajectory).toHaveLength(4);
    // the proxy's metrics record the mixture of every step: the file's trajectory
    const records = trains(join(out, 'proxy'));
    expect(records.map((t) => t.domainWeights)).toEqual(w.trajectory.map((t) => t.weights));
    const mean = (d: string) => w.trajectory.reduce((s, t) => s + t.weights[d]!, 0) / 4;
    expect(w.weights.books).toBeCloseTo(mean('books'), 12);
    for (const d of ['books', 'code']) expect(r.stdout).toContain(w.weights[d]!.toFixed(4));
    // the reference trained on the uniform mixture, the proxy with DoReMi's defaults
    const proxy = readJson<TrainerConfig>(join(out, 'proxy', 'config.json'));
    expect(proxy.domainReweighting).toEqual({
      kind: 'doremi',
      reference: join(out, 'reference'),
      stepSize: 1,
      smoothing: 1e-3,
      probeSamples: 2,
    });
    expect(readJson<TrainerConfig>(join(out, 'reference', 'config.json')).domainWeights).toBe(
      'uniform',
    );
  }, 60_000);

  it('the weights file trains a model with LinUpper on top (lrw train --domain-weights <file>)', async () => {
    const file = join(root, 'doremi', 'domain-weights.json');
    const out = join(root, 'train-file');
    const r = await lrw(
      'train',
      '--data',
      data,
      '--out',
      out,
      '--method',
      'linupper',
      '--domain-weights',
      file,
      '--reweight-warmup',
      '1',
      ...quick,
    );
    expect(r.code, r.stderr).toBe(0);
    const config = readJson<TrainerConfig>(join(out, 'config.json'));
    expect(config.domainWeights).toEqual(readJson<DomainWeightsFile>(file).weights);
    expect(config.method).toBe('linupper');
  }, 30_000);

  it('doge writes its weights; lrw train --domain-reweighting doge runs online', async () => {
    const out = join(root, 'doge');
    const r = await lrw('doge', '--data', data, '--out', out, '--mu', '0.5', ...quick);
    expect(r.code, r.stderr).toBe(0);
    const w = readJson<DomainWeightsFile>(join(out, 'domain-weights.json'));
    expect(w).toMatchObject({ method: 'doge', steps: 4, hyperparameters: { mu: 0.5 } });
    const online = join(root, 'online-doge');
    const t = await lrw(
      'train',
      '--data',
      data,
      '--out',
      online,
      '--method',
      'linupper',
      '--domain-reweighting',
      'doge',
      '--mu',
      '0.5',
      ...quick,
    ).catch((e: unknown) => e);
    // --mu belongs to lrw doge; lrw train takes the kind only (its defaults, or a config file)
    expect((t as { code: number }).code).toBe(2);
    const t2 = await lrw(
      'train',
      '--data',
      data,
      '--out',
      online,
      '--method',
      'linupper',
      '--domain-reweighting',
      'doge',
      ...quick,
    );
    expect(t2.code, t2.stderr).toBe(0);
    const records = trains(online);
    expect(records.every((x) => x.domainWeights !== undefined)).toBe(true);
    expect(readJson<DomainWeightsFile>(join(online, 'domain-weights.json')).steps).toBe(4);
  }, 60_000);
});

describe('lrw doremi with a config file of an online run', () => {
  it("replaces the file's domainReweighting: the reference trains without one", async () => {
    const file = join(root, 'online-config.json');
    writeFileSync(
      file,
      JSON.stringify({ steps: 3, seqLen: 16, batchSize: 2, domainReweighting: { kind: 'doge' } }),
    );
    const out = join(root, 'doremi-from-config');
    const r = await lrw(
      'doremi',
      '--data',
      data,
      '--out',
      out,
      '--config',
      file,
      '--eval-batches',
      '1',
      '--r',
      '0.4',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('note: --r and --reweight-warmup do not apply');
    const reference = readJson<TrainerConfig>(join(out, 'reference', 'config.json'));
    expect(reference.domainReweighting).toBeUndefined();
    expect(reference.steps).toBe(3);
    const proxy = readJson<TrainerConfig>(join(out, 'proxy', 'config.json'));
    expect(proxy.domainReweighting?.kind).toBe('doremi');
  }, 30_000);
});

describe('bad domain weights input', () => {
  const train = (...extra: string[]) =>
    lrw('train', '--data', data, '--out', join(root, 'bad'), ...quick, ...extra);
  const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

  it('a missing file', async () => {
    const r = await train('--domain-weights', join(root, 'nope.json'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Domain weights file ${join(root, 'nope.json')} does not exist`);
    expect(r.stderr).toContain('HINT:');
    noStack(r.stderr);
  });

  it('a negative weight, naming the field', async () => {
    const file = join(root, 'negative.json');
    writeFileSync(
      file,
      JSON.stringify({ kind: 'lrw-domain-weights', weights: { books: 0.7, code: -0.1 } }),
    );
    const r = await train('--domain-weights', file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `${file}: weights.code = -0.1; every weight must be a finite number >= 0`,
    );
    expect(r.stderr).toContain(`fix weights.code in ${file}`);
    noStack(r.stderr);
  });

  it('domains the dataset does not have', async () => {
    const file = join(root, 'other-domains.json');
    writeFileSync(file, JSON.stringify({ books: 1, wikipedia: 2 }));
    const r = await train('--domain-weights', file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file} names "wikipedia", which the dataset does not have`);
    expect(r.stderr).toContain('its domains: books, code');
    noStack(r.stderr);
  });

  it('not JSON, and DoReMi without a reference', async () => {
    const file = join(root, 'broken.json');
    writeFileSync(file, '{ "books": 1,');
    const r = await train('--domain-weights', file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file} is not valid JSON`);
    noStack(r.stderr);
    const d = await train('--domain-reweighting', 'doremi');
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--domain-reweighting doremi needs --reference <run dir>');
    const n = await train('--domain-reweighting', 'doremi', '--reference', join(root, 'none'));
    expect(n.code).not.toBe(0);
    expect(n.stderr).toMatch(/domainReweighting\.reference: .*none holds no run/);
    noStack(n.stderr);
  });
});

describe('lrw compare --mixtures', () => {
  it('uniform,doremi,doge x uniform,linupper: computes the mixtures, then six runs', async () => {
    const out = join(root, 'compare');
    const r = await lrw(
      'compare',
      '--data',
      data,
      '--out',
      out,
      '--mixtures',
      'uniform,doremi,doge',
      '--methods',
      'uniform,linupper',
      '--reweight-warmup',
      '1',
      ...quick,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("doremi: the dataset's domains are not SlimPajama's");
    // the report plots the trajectories of the proxies that computed the mixtures
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const kind of ['doremi', 'doge']) {
      expect(html).toContain(
        `aria-label="${kind} proxy (the ${kind} runs use its mean): domain weights`,
      );
    }
    const results = readJson<CompareResults>(join(out, 'results.json'));
    expect(results.runs.map((x) => x.label)).toEqual([
      'uniform',
      'linupper',
      'doremi',
      'doremi+linupper',
      'doge',
      'doge+linupper',
    ]);
    const doremi = readJson<DomainWeightsFile>(
      join(out, 'mixtures', 'doremi', 'domain-weights.json'),
    );
    const byLabel = Object.fromEntries(results.runs.map((x) => [x.label, x.config]));
    expect(byLabel['doremi+linupper']!.domainWeights).toEqual(doremi.weights);
    expect(byLabel['doremi+linupper']!.method).toBe('linupper');
    expect(byLabel.doge!.method).toBe('uniform');
    expect(byLabel.linupper!.domainWeights).toBe('uniform');
    // a weights file is a mixture too, named after its folder
    const again = await lrw(
      'compare',
      '--data',
      data,
      '--out',
      join(root, 'compare-file'),
      '--mixtures',
      join(root, 'doremi', 'domain-weights.json'),
      '--methods',
      'linupper',
      '--reweight-warmup',
      '1',
      '--no-report',
      ...quick,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(
      readJson<CompareResults>(join(root, 'compare-file', 'results.json')).runs.map((x) => x.label),
    ).toEqual(['linupper', 'doremi+linupper']);
  }, 90_000);
});

import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerConfigInput } from './config.js';
import type { TrainStepRecord } from './metrics-record.js';
import type { DomainWeightsFile } from './online-domain-weights.js';
import { type TrainRunOptions, trainRun } from './run-training.js';
import { runSimulatedRanks } from './simulated-collective.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  smallRunOptions,
  trainRecords,
} from './training.test-helpers.js';

let dataDir: string;
let root: string;
beforeAll(async () => {
  dataDir = await prepareFixtureData();
  root = await mkdtemp(join(tmpdir(), 'lrw-trainer-domains-'));
  await trainRun(SMALL_CONFIG, options('reference'));
}, 60_000);
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

const options = (name: string, extra: Partial<TrainRunOptions> = {}) =>
  smallRunOptions(dataDir, join(root, name), 1, extra);

const fingerprint = (records: TrainStepRecord[]) =>
  records.map((r) => [r.step, r.loss, r.gradNorm, r.domainLoss, r.domainWeights]);

const readWeights = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'domain-weights.json'), 'utf8')) as DomainWeightsFile;

/** A straight run, and one crashed before step 10 and resumed from its step-6 checkpoint. */
async function straightAndResumed(name: string, config: TrainerConfigInput) {
  await trainRun(config, options(`${name}-straight`));
  const crash = new Error('simulated crash');
  const crashing = options(`${name}-resumed`, {
    hooks: {
      beforeStep: (s) => {
        if (s === 9) throw crash;
      },
    },
  });
  await expect(trainRun(config, crashing)).rejects.toBe(crash);
  await trainRun(config, options(`${name}-resumed`, { resume: true }));
  return {
    straight: trainRecords(join(root, `${name}-straight`)),
    resumed: trainRecords(join(root, `${name}-resumed`)),
  };
}

describe('online domain reweighting', () => {
  it('DoReMi changes the mixture every step, resumes bit-identically and writes the mean', async () => {
    const config = {
      ...SMALL_CONFIG,
      domainReweighting: { kind: 'doremi' as const, reference: join(root, 'reference') },
    };
    const { straight, resumed } = await straightAndResumed('doremi', config);
    expect(straight).toHaveLength(12);
    expect(fingerprint(resumed)).toEqual(fingerprint(straight));
    const trajectory = straight.map((r) => r.domainWeights!);
    expect(Object.keys(trajectory[0]!).sort()).toEqual(['books', 'speeches']);
    // the weights move away from uniform, and stay a distribution with DoReMi's floor c / k
    expect(trajectory.some((w) => Math.abs(w.books! - 0.5) > 1e-3)).toBe(true);
    for (const w of trajectory) {
      expect(w.books! + w.speeches!).toBeCloseTo(1, 12);
      expect(Math.min(w.books!, w.speeches!)).toBeGreaterThanOrEqual(1e-3 / 2);
    }
    const file = readWeights(join(root, 'doremi-resumed'));
    expect(file).toMatchObject({ kind: 'lrw-domain-weights', method: 'doremi', steps: 12 });
    expect(file.hyperparameters).toEqual({ stepSize: 1, smoothing: 1e-3, probeSamples: 2 });
    expect(file.trajectory.map((t) => t.weights)).toEqual(trajectory);
    const mean = trajectory.reduce((s, w) => s + w.books!, 0) / trajectory.length;
    expect(file.weights.books).toBeCloseTo(mean, 12);
    expect(file.final).toEqual(trajectory.at(-1));
  }, 120_000);

  it('DoGE changes the mixture every step and resumes bit-identically', async () => {
    const config = { ...SMALL_CONFIG, domainReweighting: { kind: 'doge' as const } };
    const { straight, resumed } = await straightAndResumed('doge', config);
    expect(fingerprint(resumed)).toEqual(fingerprint(straight));
    const books = straight.map((r) => r.domainWeights!.books!);
    expect(new Set(books).size).toBeGreaterThan(1);
    expect(readWeights(join(root, 'doge-straight')).hyperparameters).toEqual({
      mu: 1,
      probeSamples: 2,
    });
  }, 120_000);

  it('leaves a domain with initial weight 0 out of the mixture', async () => {
    const config = {
      ...SMALL_CONFIG,
      steps: 3,
      domainWeights: { books: 1, speeches: 0 },
      domainReweighting: { kind: 'doge' as const },
    };
    await trainRun(config, options('one-domain'));
    const records = trainRecords(join(root, 'one-domain'));
    expect(records.map((r) => r.domainWeights)).toEqual([{ books: 1 }, { books: 1 }, { books: 1 }]);
    expect(records.every((r) => Object.keys(r.domainLoss ?? {}).join() === 'books')).toBe(true);
  });

  it('2 simulated ranks of 4 samples reweight the domains like 1 rank of 8', async () => {
    // every rank measures the same probes on the same model, so all agree on the weights
    const config = {
      ...SMALL_CONFIG,
      steps: 4,
      checkpointInterval: 0,
      method: 'linupper' as const,
      temperature: { kind: 'constant' as const, r: 0.4 },
      domainReweighting: { kind: 'doge' as const, mu: 0.1 },
    };
    await trainRun({ ...config, batchSize: 8 }, options('dp-one'));
    await runSimulatedRanks(2, (collective) =>
      trainRun({ ...config, batchSize: 4 }, options('dp-two', { collective })),
    );
    const one = trainRecords(join(root, 'dp-one'));
    const two = trainRecords(join(root, 'dp-two'));
    expect(two).toHaveLength(4);
    one.forEach((r, i) => {
      expect(two[i]!.meanLoss).toBeCloseTo(r.meanLoss!, 5);
      for (const d of ['books', 'speeches']) {
        expect(two[i]!.domainWeights![d]).toBeCloseTo(r.domainWeights![d]!, 5);
      }
    });
    expect(new Set(one.map((r) => r.domainWeights!.books)).size).toBeGreaterThan(1);
  }, 30_000);

  it('refuses a reference directory without a run, naming the field and what to do', async () => {
    const config = {
      ...SMALL_CONFIG,
      domainReweighting: { kind: 'doremi' as const, reference: join(root, 'nothing') },
    };
    await expect(trainRun(config, options('no-reference'))).rejects.toThrow(
      /domainReweighting\.reference: .*nothing holds no run[\s\S]*HINT: train the reference run first/,
    );
  });

  it('refuses to resume with another domain reweighting', async () => {
    const config = { ...SMALL_CONFIG, domainReweighting: { kind: 'doge' as const, mu: 2 } };
    await expect(trainRun(config, options('doge-straight', { resume: true }))).rejects.toThrow(
      /checkpoint was written with domainReweighting/,
    );
  });
});

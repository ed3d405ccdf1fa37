import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accumulationCoefficients } from '@lrw/strategies/distributed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainRun } from './run-training.js';
import { runSimulatedRanks } from './simulated-collective.js';
import type { TrainerStepRecord } from './trainer.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  SMALL_MODEL,
  trainRecords,
} from './training.test-helpers.js';

let dataDir: string;
let root: string;
beforeAll(async () => {
  dataDir = await prepareFixtureData();
  root = await mkdtemp(join(tmpdir(), 'lrw-trainer-dp-'));
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

describe('data parallelism (spec section 5)', () => {
  it('2 simulated ranks of 4 samples train like 1 rank of 8 (all-gathered weights, summed gradients)', async () => {
    const config = {
      ...SMALL_CONFIG,
      steps: 4,
      checkpointInterval: 0,
      method: 'linupper' as const,
      temperature: { kind: 'constant' as const, r: 0.4 },
    };
    const common = {
      dataDir,
      modelOverrides: SMALL_MODEL,
      progress: false as const,
      evalBatches: 1,
    };
    await trainRun({ ...config, batchSize: 8 }, { ...common, outDir: join(root, 'one') });
    await runSimulatedRanks(2, (collective) =>
      trainRun({ ...config, batchSize: 4 }, { ...common, outDir: join(root, 'two'), collective }),
    );
    const one = trainRecords(join(root, 'one'));
    const two = trainRecords(join(root, 'two'));
    expect(two).toHaveLength(4);
    // the first step sees identical weights and data: equal up to the float32 sum order
    one.forEach((r, i) => {
      expect(two[i]!.loss).toBeCloseTo(r.loss!, 5);
      expect(two[i]!.meanLoss).toBeCloseTo(r.meanLoss!, 5);
      expect(two[i]!.gradNorm).toBeCloseTo(r.gradNorm!, 5);
      expect(two[i]!.weights!.maxWeightTimesN).toBeCloseTo(r.weights!.maxWeightTimesN, 4);
      expect(two[i]!.tokens).toBe(r.tokens);
    });
  }, 30_000);
});

describe('data-parallel start', () => {
  it('ranks with different configs refuse to train, each naming the rank that differs', async () => {
    const config = { ...SMALL_CONFIG, steps: 2, checkpointInterval: 0, batchSize: 4 };
    const results = await runSimulatedRanks(2, (collective) =>
      trainRun(
        { ...config, seed: collective.rank === 1 ? 7 : config.seed },
        {
          dataDir,
          modelOverrides: SMALL_MODEL,
          progress: false,
          evalBatches: 1,
          outDir: join(root, 'mismatch'),
          collective,
        },
      ).then(
        () => 'trained',
        (e: Error) => e.message,
      ),
    );
    for (const r of results) expect(r).toMatch(/^Rank 1 has another training config than rank 0/);
  }, 30_000);
});

describe('gradient accumulation (spec section 5)', () => {
  const config = {
    ...SMALL_CONFIG,
    steps: 3,
    checkpointInterval: 0,
    method: 'linupper' as const,
    temperature: { kind: 'constant' as const, r: 0.4 },
  };
  const common = () => ({
    dataDir,
    modelOverrides: SMALL_MODEL,
    progress: false as const,
    evalBatches: 1,
    logSampleWeights: true,
  });

  it('global normalization over 2 micro-batches of 4 trains like one batch of 8', async () => {
    await trainRun({ ...config, batchSize: 8 }, { ...common(), outDir: join(root, 'acc-one') });
    await trainRun(
      { ...config, batchSize: 4, gradAccumulation: 2, accumulationNormalization: 'global' },
      { ...common(), outDir: join(root, 'acc-global') },
    );
    const one = trainRecords(join(root, 'acc-one')) as TrainerStepRecord[];
    const acc = trainRecords(join(root, 'acc-global')) as TrainerStepRecord[];
    // same data (the stream draws rows in order), same weights; gradients summed in two parts
    expect(acc[0]!.sampleLosses).toEqual(one[0]!.sampleLosses);
    expect(acc[0]!.sampleWeights).toEqual(one[0]!.sampleWeights);
    one.forEach((r, i) => {
      expect(acc[i]!.loss).toBeCloseTo(r.loss!, 5);
      expect(acc[i]!.gradNorm).toBeCloseTo(r.gradNorm!, 5);
    });
  }, 30_000);

  it('per-micro-batch normalization logs the reference coefficients', async () => {
    await trainRun(
      { ...config, batchSize: 4, gradAccumulation: 2 },
      { ...common(), outDir: join(root, 'acc-micro') },
    );
    for (const r of trainRecords(join(root, 'acc-micro')) as TrainerStepRecord[]) {
      const l = r.sampleLosses!;
      const want = accumulationCoefficients([l.slice(0, 4), l.slice(4)], {
        normalization: 'per-micro-batch',
        strategy: 'linupper',
        r: 0.4,
      });
      expect(r.sampleWeights).toEqual([...want[0]!, ...want[1]!]);
      expect(r.tokens).toBe(r.step * 8 * 32);
    }
  }, 30_000);
});

import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainStepRecord } from './metrics-record.js';
import { readMetrics } from './metrics-writer.js';
import { trainRun } from './run-training.js';
import { runSimulatedRanks } from './simulated-collective.js';
import { prepareFixtureData, SMALL_CONFIG, SMALL_MODEL } from './training.test-helpers.js';

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

const trains = (dir: string) =>
  readMetrics(join(dir, 'metrics.jsonl')).records.filter(
    (r): r is TrainStepRecord => r.kind === 'train',
  );

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
    const one = trains(join(root, 'one'));
    const two = trains(join(root, 'two'));
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

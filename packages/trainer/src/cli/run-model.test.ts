import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@lrw/data';
import { createModel } from '@lrw/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../checkpoint-store.js';
import { parseTrainerConfig } from '../config.js';
import { resolveModelConfig } from '../model-presets.js';
import { runPaths } from '../run-directory.js';
import { readRunResults } from '../run-results.js';
import { trainRun } from '../run-training.js';
import { prepareFixtureData, SMALL_CONFIG, SMALL_MODEL } from '../training.test-helpers.js';
import { evaluateRun } from './evaluate-run.js';
import { loadRunModel } from './run-model.js';

let dataDir: string;
let root: string;
beforeAll(async () => {
  dataDir = await prepareFixtureData();
  root = await mkdtemp(join(tmpdir(), 'lrw-run-model-'));
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

describe('loadRunModel', () => {
  it('rebuilds a run trained with modelOverrides from the config its checkpoint records', async () => {
    const outDir = join(root, 'overrides');
    const { results } = await trainRun(
      { ...SMALL_CONFIG, steps: 2, checkpointInterval: 0 },
      { dataDir, outDir, modelOverrides: SMALL_MODEL, progress: false, evalBatches: 2 },
    );
    expect(readRunResults(outDir)?.modelConfig).toMatchObject(SMALL_MODEL);
    const dataset = await openDataset(dataDir);
    const { model } = await loadRunModel(outDir, dataset.vocabSize);
    expect(model.config).toMatchObject(SMALL_MODEL);
    model.dispose();
    // the reloaded model scores the validation batches as the trainer's final evaluation did
    const ev = await evaluateRun(outDir, { data: dataDir, evalBatches: 2 });
    for (const [d, v] of Object.entries(results.domains)) {
      expect(ev.perplexity.domains[d]!.loss).toBeCloseTo(v.loss, 5);
    }
  });

  it('still loads a checkpoint without a recorded model config (the preset, fitted to the data)', async () => {
    const outDir = join(root, 'old');
    const dataset = await openDataset(dataDir);
    const config = parseTrainerConfig({ ...SMALL_CONFIG });
    const modelConfig = resolveModelConfig(config.model, {
      vocabSize: dataset.vocabSize,
      seqLen: config.seqLen,
    });
    const trained = createModel(modelConfig, { seed: 11 });
    const model: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, p] of trained.namedParameters()) {
      model[name] = { shape: [...p.shape], data: Float32Array.from(p.dataSync()) };
    }
    trained.dispose();
    await new CheckpointStore(runPaths(outDir).checkpoints).save({
      step: 5,
      model,
      optimizer: { tensors: {}, state: null },
      parts: {},
      config,
    });
    const loaded = await loadRunModel(outDir, dataset.vocabSize);
    expect(loaded.step).toBe(5);
    expect(loaded.model.config).toMatchObject(modelConfig);
    const [name, p] = loaded.model.namedParameters()[0]!;
    expect(Array.from(p.dataSync())).toEqual(Array.from(model[name]!.data));
    loaded.model.dispose();
  });
});

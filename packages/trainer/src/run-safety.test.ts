import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '@lrw/data';
import type { TokenBatch } from '@lrw/eval';
import { createModel, type ModelConfig } from '@lrw/models';
import { noGrad, tensor } from '@lrw/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoint-store.js';
import { parseTrainerConfig, type TrainerConfigInput } from './config.js';
import type { TrainStepRecord } from './metrics-record.js';
import { resolveModelConfig } from './model-presets.js';
import { runPaths } from './run-directory.js';
import { type HistoryLine, parseHistory } from './run-history.js';
import { currentHolder } from './run-lock.js';
import { trainRun } from './run-training.js';
import type { StepGuardState } from './step-guard.js';
import { Trainer } from './trainer.js';
import { TrainerError } from './trainer-error.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  SMALL_MODEL,
  smallRunOptions,
  trainRecords,
} from './training.test-helpers.js';
import { validationBatches } from './validation-batches.js';

let dataDir: string;
let root: string;
let straight: TrainStepRecord[];
beforeAll(async () => {
  dataDir = await prepareFixtureData();
  root = await mkdtemp(join(tmpdir(), 'lrw-run-safety-'));
  await trainRun(SMALL_CONFIG, smallRunOptions(dataDir, join(root, 'straight'), 2));
  straight = trainRecords(join(root, 'straight'));
}, 60_000);
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

const fingerprint = (records: TrainStepRecord[]) =>
  records.map((r) => [r.step, r.loss, r.meanLoss, r.gradNorm, r.lr, r.domainLoss, r.tokens]);
const history = (dir: string): HistoryLine[] =>
  parseHistory(readFileSync(runPaths(dir).history, 'utf8'));
const failure = async (p: Promise<unknown>): Promise<TrainerError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!TrainerError.isInstance(e)) throw new Error(`expected a TrainerError, got ${String(e)}`);
  return e;
};

/** A Trainer over the fixture data with the small model, built by hand (hooks see the model). */
async function handTrainer(
  name: string,
  config: TrainerConfigInput,
  extra: Partial<Parameters<typeof Trainer.create>[0]> = {},
) {
  const c = parseTrainerConfig({ ...SMALL_CONFIG, ...config });
  const dataset = await openDataset(dataDir);
  const model = createModel(
    {
      ...resolveModelConfig(c.model, { vocabSize: dataset.vocabSize, seqLen: c.seqLen }),
      ...SMALL_MODEL,
    } as ModelConfig,
    { seed: c.seed },
  );
  const stream = dataset.stream({
    batchSize: c.batchSize,
    seqLen: c.seqLen,
    seed: c.seed,
    prefetch: 0,
  });
  const outDir = join(root, name);
  const validation = () =>
    validationBatches(dataset, { batchSize: c.batchSize, seqLen: c.seqLen, maxBatches: 2 });
  const create = (more: Partial<Parameters<typeof Trainer.create>[0]> = {}) =>
    Trainer.create({
      config: c,
      model,
      train: stream,
      domains: dataset.domains,
      validation,
      outDir,
      progress: false,
      ...extra,
      ...more,
    });
  const dispose = async () => {
    model.dispose();
    await stream.close();
  };
  return { config: c, model, stream, outDir, create, dispose, validation };
}

/** Sets the first value of the first parameter (NaN poisons every loss). */
function setFirst(
  model: {
    parameters(): {
      dataSync(): ArrayLike<number>;
      shape: readonly number[];
      assign(t: unknown): void;
    }[];
  },
  value: number,
): number {
  const p = model.parameters()[0]!;
  const data = Float32Array.from(p.dataSync());
  const old = data[0]!;
  data[0] = value;
  const t = tensor(data, { shape: [...p.shape] });
  noGrad(() => p.assign(t));
  t.dispose();
  return old;
}

describe('checkpoints and the step guard', () => {
  it('a checkpoint due at a skipped step waits for the next applied update; a diverged model is refused', async () => {
    const h = await handTrainer('deferred', {
      steps: 8,
      checkpointInterval: 2,
      keepCheckpoints: 10,
      guard: { maxConsecutiveBad: 3 },
    });
    let saved = 0;
    const trainer = await h.create({
      hooks: {
        beforeStep: (s) => {
          if (s === 3) saved = setFirst(h.model, Number.NaN); // step 4: non-finite loss, skipped
          if (s === 4) setFirst(h.model, saved); // step 5 applies its update again
        },
      },
    });
    await trainer.train();
    const store = new CheckpointStore(runPaths(h.outDir).checkpoints, { keepLast: 10 });
    expect((await store.list()).map((c) => c.step)).toEqual([2, 5, 6, 8]);
    for (const { step } of await store.list()) {
      const guard = (await store.load(step)).parts.guard as StepGuardState;
      expect(guard.consecutiveBad, `step ${step}`).toBe(0);
    }
    expect(trainRecords(h.outDir).map((r) => r.skipped ?? 'ok')[3]).toBe('non-finite-loss');
    expect(history(h.outDir).filter((l) => l.event === 'checkpoint-skipped')).toMatchObject([
      { step: 4 },
    ]);
    // a model with a NaN parameter is never written
    setFirst(h.model, Number.NaN);
    const e = await failure(trainer.saveCheckpoint());
    expect(e.code).toBe('non-finite-model');
    expect(e.message).toMatch(/Not checkpointing step 8: ".*" holds NaN at index 0/);
    expect((await store.latest())!.step).toBe(8);
    trainer.close();
    await h.dispose();
  }, 30_000);

  it('writes the final checkpoint before the final evaluation: a failing evaluation loses no step', async () => {
    const h = await handTrainer('final', { steps: 6, checkpointInterval: 0, evalInterval: 0 });
    const broken = () =>
      (async function* (): AsyncGenerator<TokenBatch> {
        yield* [];
        throw new Error('validation shard truncated');
      })();
    const trainer = await h.create({ validation: broken });
    await expect(trainer.train()).rejects.toThrow('validation shard truncated');
    trainer.close();
    const store = new CheckpointStore(runPaths(h.outDir).checkpoints);
    expect((await store.latest())!.step).toBe(6);
    // the resume trains nothing and evaluates once
    const resumed = await h.create({ resume: true });
    await resumed.train();
    expect(resumed.step).toBe(6);
    const metrics = readFileSync(runPaths(h.outDir).metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; step: number });
    expect(metrics.filter((r) => r.kind === 'train')).toHaveLength(6);
    expect(metrics.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([6]);
    expect(history(h.outDir).map((l) => l.event)).toEqual([
      'start',
      'failed',
      'resume',
      'finished',
    ]);
    resumed.close();
    await h.dispose();
  }, 30_000);
});

describe('stopping on a signal', () => {
  it('finishes the step in progress, checkpoints it and rejects; the resumed run equals the straight one', async () => {
    const out = join(root, 'signal');
    const controller = new AbortController();
    const e = await failure(
      trainRun(
        SMALL_CONFIG,
        smallRunOptions(dataDir, out, 2, {
          signal: controller.signal,
          hooks: { beforeStep: (s) => s === 7 && controller.abort('SIGINT') },
        }),
      ),
    );
    expect(e.code).toBe('interrupted');
    expect(e.message).toContain(
      'Training stopped after step 8 of 12 (SIGINT): checkpoint written:',
    );
    expect(e.message).toContain('step-000000008.lrwckpt');
    expect((await new CheckpointStore(runPaths(out).checkpoints).latest())!.step).toBe(8);
    expect(history(out).at(-1)).toMatchObject({ event: 'interrupted', step: 8, checkpoint: 8 });
    await trainRun(SMALL_CONFIG, smallRunOptions(dataDir, out, 2, { resume: true }));
    expect(fingerprint(trainRecords(out))).toEqual(fingerprint(straight));
  }, 60_000);

  it('a resume clears what a kill left mid-write (temporary files, a cut-off line, a stale lock)', async () => {
    const out = join(root, 'debris');
    const crash = new Error('killed');
    await expect(
      trainRun(
        SMALL_CONFIG,
        smallRunOptions(dataDir, out, 2, {
          hooks: {
            beforeStep: (s) => {
              if (s === 8) throw crash;
            },
          },
        }),
      ),
    ).rejects.toBe(crash);
    // the files of a process killed while rewriting config.json and metrics.jsonl, writing a
    // checkpoint and a metrics line, and holding the lock
    const paths = runPaths(out);
    writeFileSync(join(out, '.config.json.tmp-0a1b2c'), '{"partial');
    writeFileSync(join(out, '.metrics.jsonl.tmp-3d4e5f'), '{"kind":"train"');
    writeFileSync(join(paths.checkpoints, '.step-000000012.lrwckpt.tmp-6a7b8c'), 'LRWCKPT');
    appendFileSync(paths.metrics, '{"kind":"train","step":9,"loss":');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(paths.lock, JSON.stringify({ ...currentHolder(), pid: dead }));
    await trainRun(SMALL_CONFIG, smallRunOptions(dataDir, out, 2, { resume: true }));
    expect(fingerprint(trainRecords(out))).toEqual(fingerprint(straight));
    expect(readdirSync(out).filter((f) => f.startsWith('.') || f === 'lock')).toEqual([]);
    expect(readdirSync(paths.checkpoints).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 60_000);

  it('aborted before the first step: nothing is trained and nothing is written', async () => {
    const out = join(root, 'early');
    const controller = new AbortController();
    controller.abort('SIGTERM');
    const e = await failure(
      trainRun(SMALL_CONFIG, smallRunOptions(dataDir, out, 2, { signal: controller.signal })),
    );
    expect(e.message).toBe(
      'Stopped before training started (SIGTERM): nothing was trained.\nHINT: start the run again.',
    );
    expect(existsSync(out)).toBe(false);
  }, 30_000);
});

describe('resume overrides', () => {
  const base: TrainerConfigInput = {
    ...SMALL_CONFIG,
    method: 'linupper',
    temperature: {
      kind: 'plain-mean-warmup',
      warmupSteps: 2,
      // biome-ignore lint/suspicious/noThenProperty: the config's field name
      then: { kind: 'constant', r: 0.4 },
    },
  };

  it('lr, r and the guard may change (recorded in history.jsonl and config.json); nothing else may', async () => {
    const out = join(root, 'overrides');
    await trainRun({ ...base, steps: 6 }, smallRunOptions(dataDir, out, 2));
    const changed: TrainerConfigInput = {
      ...base,
      steps: 8,
      lr: { kind: 'constant', lr: 1e-3, warmupSteps: 4 },
      temperature: {
        kind: 'plain-mean-warmup',
        warmupSteps: 2,
        // biome-ignore lint/suspicious/noThenProperty: the config's field name
        then: { kind: 'constant', r: 0.8 },
      },
      guard: { maxConsecutiveBad: 9 },
    };
    const refused = async (config: TrainerConfigInput, pattern: RegExp) => {
      const before = readFileSync(runPaths(out).metrics, 'utf8');
      const e = await failure(trainRun(config, smallRunOptions(dataDir, out, 2, { resume: true })));
      expect(e.code).toBe('checkpoint-mismatch');
      expect(e.message).toMatch(pattern);
      expect(readFileSync(runPaths(out).metrics, 'utf8')).toBe(before);
    };
    await refused({ ...changed, seed: 9 }, /written with seed = 3; this run has 9/);
    await refused(
      { ...changed, temperature: { kind: 'constant', r: 0.8 } },
      /only its r may change on resume/,
    );
    const r = await trainRun(changed, smallRunOptions(dataDir, out, 2, { resume: true }));
    expect(r.results.steps).toBe(8);
    const resume = history(out).filter((l) => l.event === 'resume');
    expect(resume).toHaveLength(1);
    const changes = (
      resume[0] as HistoryLine & { changes: Record<string, { from: unknown; to: unknown }> }
    ).changes;
    expect(Object.keys(changes).sort()).toEqual(['guard', 'lr', 'steps', 'temperature']);
    expect(changes.lr!.to).toEqual({ kind: 'constant', lr: 1e-3, warmupSteps: 4 });
    const config = JSON.parse(readFileSync(runPaths(out).config, 'utf8'));
    expect(config.temperature.then.r).toBe(0.8);
    expect(config.outputDir).toBe(out);
    const records = trainRecords(out);
    expect(records.map((x) => x.lr)).toEqual([...records.slice(0, 6).map((x) => x.lr), 1e-3, 1e-3]);
    expect(records.slice(6).every((x) => x.r === 0.8)).toBe(true);
  }, 60_000);
});

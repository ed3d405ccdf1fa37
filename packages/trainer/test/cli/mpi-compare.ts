import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { CheckpointStore } from '../../src/checkpoint-store.js';
import { runPaths } from '../../src/run-directory.js';

/**
 * The arguments of the small `lrw train` run the multi-rank tests compare: `steps` steps of
 * 16-token samples, `batch` per rank, one validation batch at the end.
 */
export function trainArgs(
  data: string,
  out: string,
  steps: number,
  batch: number,
  extra: string[] = [],
): string[] {
  return [
    'train',
    '--data',
    data,
    '--out',
    out,
    '--steps',
    String(steps),
    '--seq-len',
    '16',
    '--batch-size',
    String(batch),
    '--eval-interval',
    '0',
    '--eval-batches',
    '1',
    ...extra,
  ];
}

/** One `kind: 'train'` record of metrics.jsonl, the fields the comparisons read. */
export interface TrainRecord {
  step: number;
  loss: number;
  meanLoss: number;
  gradNorm: number;
  tokens: number;
}

/** The train records of a run directory. */
export const trainRecords = (dir: string): TrainRecord[] =>
  readFileSync(runPaths(dir).metrics, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"train"'))
    .map((l) => JSON.parse(l) as TrainRecord);

/** The parameters of a run's latest checkpoint, which must be at `steps`. */
export async function finalParameters(
  dir: string,
  steps: number,
): Promise<Record<string, Float32Array>> {
  const c = await new CheckpointStore(runPaths(dir).checkpoints).loadLatest();
  expect(c?.step).toBe(steps);
  return Object.fromEntries(Object.entries(c!.model).map(([k, v]) => [k, v.data]));
}

/**
 * Two runs trained alike: the same steps and tokens, losses and gradient norms within float
 * tolerance (sums over ranks run in another order), and final parameters within 1e-4.
 */
export async function expectSameTraining(one: string, two: string, steps: number): Promise<void> {
  const a = trainRecords(one);
  const b = trainRecords(two);
  expect(b).toHaveLength(steps);
  a.forEach((r, i) => {
    expect(b[i]!.step).toBe(r.step);
    expect(b[i]!.tokens).toBe(r.tokens);
    expect(b[i]!.loss).toBeCloseTo(r.loss, 4);
    expect(b[i]!.meanLoss).toBeCloseTo(r.meanLoss, 4);
    expect(b[i]!.gradNorm).toBeCloseTo(r.gradNorm, 3);
  });
  const pa = await finalParameters(one, steps);
  const pb = await finalParameters(two, steps);
  expect(Object.keys(pb)).toEqual(Object.keys(pa));
  let worst = 0;
  for (const [name, x] of Object.entries(pa)) {
    const y = pb[name]!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  expect(worst).toBeLessThan(1e-4);
}

import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, tidy } from '@lrw/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoint-store.js';
import type { Collective } from './collective.js';
import { GradientBuckets } from './gradient-buckets.js';
import { runPaths } from './run-directory.js';
import { trainRun } from './run-training.js';
import { simulatedCollectives } from './simulated-collective.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  SMALL_MODEL,
  trainRecords,
} from './training.test-helpers.js';

const MiB = 1024 * 1024;

/** A one-rank collective that records its started sums and doubles them (a pretend 2 ranks). */
function recordingCollective() {
  const started: { length: number; values: number[] }[] = [];
  const c: Collective = {
    worldSize: 2,
    rank: 0,
    allGather: async (x) => x.slice(),
    allReduceSum: async (x) => x.map((v) => 2 * v),
    barrier: async () => {},
    broadcast: async (x) => x.slice(),
    startAllReduceSum: async (buffer) => {
      started.push({ length: buffer.length, values: Array.from(buffer) });
      return buffer.map((v) => 2 * v);
    },
  };
  return { c, started };
}

describe('GradientBuckets', () => {
  it('splits the parameters in reverse order into buckets of at most bucketMB (a larger one alone)', () => {
    // sizes 3, 5, 2, 4 (float32): capacity 6 elements = 24 bytes
    const params = [3, 5, 2, 4].map((n) => tensor(new Float32Array(n)).requireGrad());
    const b = new GradientBuckets(params, 24 / MiB);
    expect(b.buckets.map((k) => k.params.map((p) => params.indexOf(p)))).toEqual([
      [3, 2],
      [1],
      [0],
    ]);
    expect(b.buckets.map((k) => [k.offsets, k.buffer.length])).toEqual([
      [[0, 4], 6],
      [[0], 5],
      [[0], 3],
    ]);
    expect(new GradientBuckets(params, 25).buckets).toHaveLength(1);
    // the first bucket holds at most 1 MiB (DDP's), the others bucketMB: 3 x 0.75 MiB
    const big = [0, 1, 2].map(() => tensor(new Float32Array(196_608)).requireGrad());
    const split = new GradientBuckets(big, 25).buckets.map((k) =>
      k.params.map((p) => big.indexOf(p)),
    );
    expect(split).toEqual([[2], [1, 0]]);
    for (const p of big) p.dispose();
    expect(b.fits(params)).toBe(true);
    expect(b.fits(params.slice(1))).toBe(false);
    for (const p of params) p.dispose();
  });

  it('starts buckets in bucket order as their parameters finish, the rest after backward; sums copied back', async () => {
    const a = tensor([1, 2]).requireGrad();
    const w = tensor([3, 4]).requireGrad();
    const frozen = tensor([5, 6]).requireGrad(); // not in the graph: no gradient, stays null
    const params = [a, frozen, w];
    // one parameter per bucket: [w], [frozen], [a]
    const buckets = new GradientBuckets(params, 8 / MiB);
    const { c, started } = recordingCollective();
    const reduction = buckets.start(c);
    const seen: number[] = [];
    tidy(() =>
      a
        .mul(a)
        .mul(w)
        .sum()
        .backward(undefined, {
          onLeafGradReady: (leaf) => {
            reduction.onLeafGradReady(leaf);
            seen.push(started.length);
          },
        }),
    );
    // w is final first: bucket 0 starts inside backward; a's bucket (2) waits for frozen's (1),
    // which only after backward is known to get nothing
    expect(seen).toEqual([1, 1]);
    await reduction.finish();
    expect(started).toEqual([
      { length: 2, values: [1, 4] }, // d/dw = a^2
      { length: 2, values: [0, 0] }, // frozen: zeros
      { length: 2, values: [6, 16] }, // d/da = 2 a w
    ]);
    expect(w.grad!.toArraySync()).toEqual([2, 8]);
    expect(a.grad!.toArraySync()).toEqual([12, 32]);
    expect(frozen.grad).toBeNull();
    for (const p of params) p.dispose();
  });
});

describe('the trainer with overlapped buckets', () => {
  let dataDir: string;
  let root: string;
  beforeAll(async () => {
    dataDir = await prepareFixtureData();
    root = await mkdtemp(join(tmpdir(), 'lrw-trainer-buckets-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  async function finalParameters(dir: string): Promise<Record<string, Float32Array>> {
    const c = await new CheckpointStore(runPaths(dir).checkpoints).loadLatest();
    return Object.fromEntries(Object.entries(c!.model).map(([k, v]) => [k, v.data]));
  }

  it('2 simulated ranks: buckets started during backward train bit-identically to one flat all-reduce', async () => {
    const config = {
      ...SMALL_CONFIG,
      steps: 3,
      batchSize: 4,
      gradAccumulation: 2,
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
    const inBackward: boolean[] = [];
    // 16 KiB buckets: the small model's gradients span several of them
    await Promise.all(
      simulatedCollectives(2).map((sim) => {
        const spy: Collective = {
          worldSize: sim.worldSize,
          rank: sim.rank,
          allGather: (x) => sim.allGather(x),
          allReduceSum: (x) => sim.allReduceSum(x),
          barrier: () => sim.barrier(),
          broadcast: (x, r) => sim.broadcast(x, r),
          startAllReduceSum: (x) => {
            if (sim.rank === 0) inBackward.push(/settleLeaves/.test(new Error().stack ?? ''));
            return sim.startAllReduceSum!(x);
          },
        };
        return trainRun(
          { ...config, allReduce: { bucketMB: 16 / 1024 } },
          { ...common, outDir: join(root, 'overlapped'), collective: spy },
        );
      }),
    );
    await Promise.all(
      simulatedCollectives(2).map((collective) =>
        trainRun(
          { ...config, allReduce: { bucketMB: 25, overlap: false } },
          { ...common, outDir: join(root, 'flat'), collective },
        ),
      ),
    );
    const steps = 3;
    const perStep = inBackward.length / steps;
    expect(perStep).toBeGreaterThanOrEqual(3);
    // most buckets start inside backward (all but those whose parameters finish last)
    expect(inBackward.filter(Boolean).length).toBeGreaterThanOrEqual(steps * (perStep - 2));
    const one = trainRecords(join(root, 'overlapped'));
    const two = trainRecords(join(root, 'flat'));
    expect(one.map((r) => [r.loss, r.gradNorm])).toEqual(two.map((r) => [r.loss, r.gradNorm]));
    const pa = await finalParameters(join(root, 'overlapped'));
    const pb = await finalParameters(join(root, 'flat'));
    expect(Object.keys(pa).length).toBeGreaterThan(3);
    for (const [name, x] of Object.entries(pa))
      expect(Array.from(pb[name]!), name).toEqual(Array.from(x));
  }, 60_000);
});

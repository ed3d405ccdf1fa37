import { describe, expect, it } from 'vitest';
import { checkCollective, SingleProcessCollective } from './collective.js';
import { runSimulatedRanks, simulatedCollectives } from './simulated-collective.js';
import { TrainerError } from './trainer-error.js';

describe('SingleProcessCollective', () => {
  it('returns copies of its input', async () => {
    const c = new SingleProcessCollective();
    const x = Float32Array.of(1, 2, 3);
    const gathered = await c.allGather(x);
    const reduced = await c.allReduceSum(x);
    expect([c.worldSize, c.rank]).toEqual([1, 0]);
    expect(Array.from(gathered)).toEqual([1, 2, 3]);
    expect(Array.from(reduced)).toEqual([1, 2, 3]);
    gathered[0] = 9;
    expect(x[0]).toBe(1);
    await c.barrier();
  });

  it('checks world size and rank', () => {
    expect(() => checkCollective(new SingleProcessCollective())).not.toThrow();
    expect(() => checkCollective({ ...new SingleProcessCollective(), rank: 2 } as never)).toThrow(
      /rank = 2 is outside \[0, 1\).*\nHINT: pass the GLOBAL rank/s,
    );
    expect(() => checkCollective({ worldSize: 0, rank: 0 } as never)).toThrow(/worldSize = 0/);
  });
});

describe('simulatedCollectives', () => {
  it('gathers in rank order, with unequal lengths', async () => {
    const results = await runSimulatedRanks(3, async (c) => {
      const local = Float32Array.from({ length: c.rank + 1 }, () => c.rank * 10 + 1);
      return Array.from(await c.allGather(local));
    });
    for (const r of results) expect(r).toEqual([1, 11, 11, 21, 21, 21]);
  });

  it('sums element-wise and gives every rank the same values', async () => {
    const results = await runSimulatedRanks(4, async (c) => {
      await c.barrier();
      const sum = await c.allReduceSum(Float32Array.of(c.rank, 1, 0.5));
      return Array.from(sum);
    });
    for (const r of results) expect(r).toEqual([6, 4, 2]);
  });

  it("broadcasts the root's values to every rank; a different root is a mismatch", async () => {
    const results = await runSimulatedRanks(3, async (c) =>
      Array.from(await c.broadcast(Float32Array.of(c.rank, c.rank * 2), 1)),
    );
    for (const r of results) expect(r).toEqual([1, 2]);
    const [a, b] = simulatedCollectives(2);
    const pa = a!.broadcast(Float32Array.of(1), 0);
    await expect(b!.broadcast(Float32Array.of(1), 1)).rejects.toThrow(/does not match/);
    await expect(pa).rejects.toThrow(TrainerError);
    expect(Array.from(await new SingleProcessCollective().broadcast(Float32Array.of(7)))).toEqual([
      7,
    ]);
  });

  it('keeps calls in order when ranks run at different speeds', async () => {
    const results = await runSimulatedRanks(2, async (c) => {
      const out: number[] = [];
      for (let step = 0; step < 5; step++) {
        // rank 1 is slower: it yields to the event loop a few times first
        for (let k = 0; k < c.rank * 3; k++) await new Promise((r) => setImmediate(r));
        const s = await c.allReduceSum(Float32Array.of(step + c.rank));
        out.push(s[0]!);
      }
      return out;
    });
    expect(results).toEqual([
      [1, 3, 5, 7, 9],
      [1, 3, 5, 7, 9],
    ]);
  });

  it('data-parallel weighted loss: W * sum(local w l), averaged, equals the global sum', async () => {
    // spec section 5: each rank backpropagates W * sum_local w_i l_i; averaging over ranks
    // (allReduceSum / W) gives sum_all w_i l_i. Checked here on the loss values themselves.
    const globalLosses = [2.0, 3.5, 1.0, 4.0, 2.5, 3.0, 1.5, 5.0];
    const globalWeights = [0.05, 0.15, 0.02, 0.2, 0.1, 0.13, 0.05, 0.3];
    const expected = globalLosses.reduce((s, l, i) => s + l * globalWeights[i]!, 0);
    const W = 2;
    const results = await runSimulatedRanks(W, async (c) => {
      const B = 4;
      const local = Float32Array.from(globalLosses.slice(c.rank * B, (c.rank + 1) * B));
      const all = await c.allGather(local);
      expect(Array.from(all)).toEqual(Array.from(Float32Array.from(globalLosses)));
      const mine = globalWeights.slice(c.rank * B, (c.rank + 1) * B); // slice by GLOBAL rank
      const localObjective = W * mine.reduce((s, w, i) => s + w * local[i]!, 0);
      const summed = await c.allReduceSum(Float32Array.of(localObjective));
      return summed[0]! / W;
    });
    for (const r of results) expect(r).toBeCloseTo(expected, 5);
  });

  it('rejects mismatched calls instead of hanging', async () => {
    const [a, b] = simulatedCollectives(2);
    const pa = a!.allGather(Float32Array.of(1));
    await expect(b!.barrier()).rejects.toThrow(/does not match across ranks/);
    await expect(pa).rejects.toThrow(TrainerError);
    const [c, d] = simulatedCollectives(2);
    const pc = c!.allReduceSum(Float32Array.of(1, 2));
    await expect(d!.allReduceSum(Float32Array.of(1))).rejects.toThrow(/rank 1 passed 1 values/);
    await expect(pc).rejects.toThrow(/rank 1 passed 1 values/);
    expect(() => simulatedCollectives(0)).toThrow(/worldSize = 0/);
  });
});

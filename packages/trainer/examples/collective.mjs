// Two data-parallel ranks simulated in one process: gather the per-sample losses of the global
// batch, then sum a gradient-like vector over ranks.
import { runSimulatedRanks, SingleProcessCollective } from '@lrw/trainer';

const results = await runSimulatedRanks(2, async (collective) => {
  const localLosses = collective.rank === 0 ? Float32Array.of(2.5, 3.0) : Float32Array.of(1.5, 4.0);
  const globalLosses = await collective.allGather(localLosses); // same on every rank
  const summed = await collective.allReduceSum(Float32Array.of(collective.rank + 1, 10));
  await collective.barrier();
  return {
    rank: collective.rank,
    globalLosses: Array.from(globalLosses),
    summed: Array.from(summed),
  };
});
console.log(results);
// [ { rank: 0, globalLosses: [ 2.5, 3, 1.5, 4 ], summed: [ 3, 20 ] }, { rank: 1, ... } ]

const single = new SingleProcessCollective(); // the default: worldSize 1, rank 0
console.log(single.worldSize, Array.from(await single.allReduceSum(Float32Array.of(1, 2))));

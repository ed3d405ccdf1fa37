// One rank of bench/allreduce.mjs: MpiWorld.allReduceSum (in place, Float32Array) timed exactly
// as the C peer (bench/allreduce.c) times MPI_Allreduce. Prints one JSON line per size (rank 0).
import { MpiWorld } from '../dist/index.js';

const world = MpiWorld.init();
for (const arg of process.argv.slice(2)) {
  const bytes = Number(arg);
  const n = bytes / 4;
  const reps = bytes <= 65536 ? 2000 : bytes <= 1 << 20 ? 200 : bytes <= 16 << 20 ? 20 : 6;
  const v = Float32Array.from({ length: n }, (_, i) => i % 7);
  world.allReduceSum(v); // warm-up
  world.barrier();
  const t0 = world.wtime();
  for (let r = 0; r < reps; r++) world.allReduceSum(v);
  const t = Float64Array.of(world.wtime() - t0);
  const slowest = world.allGather(t);
  if (world.rank === 0) {
    process.stdout.write(`${JSON.stringify({ bytes, reps, seconds: Math.max(...slowest) })}\n`);
  }
}
world.finalize();

// One process of bench/mpi-scaling.mjs: trains `model` for warm-up + timed steps on the
// dataset in argv[2] into argv[3], on MPI when started by mpirun (1 OpenBLAS thread per rank),
// and prints rank 0's median tokens/s of the timed steps as JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blasProviderOf, getBackend } from '@lrw/tensor';
import { detectLauncher, MpiCollective, trainRun } from '../dist/index.js';

const [data, out, model, batch, steps, warmup] = process.argv.slice(2);
const mpi = detectLauncher() ? MpiCollective.init() : undefined;
// the same collective, timing its calls (the time a rank spends in MPI, waiting included)
let commMs = 0;
const timed =
  (f) =>
  async (...a) => {
    const t0 = performance.now();
    try {
      return await f(...a);
    } finally {
      commMs += performance.now() - t0;
    }
  };
const collective = mpi && {
  worldSize: mpi.worldSize,
  rank: mpi.rank,
  allGather: timed((x) => mpi.allGather(x)),
  allReduceSum: timed((x) => mpi.allReduceSum(x)),
  barrier: timed(() => mpi.barrier()),
  broadcast: timed((x, root) => mpi.broadcast(x, root)),
};
const started = performance.now();
blasProviderOf(getBackend('cpu'))?.setThreads(1);
await trainRun(
  {
    model,
    steps: Number(steps) + Number(warmup),
    seqLen: 64,
    batchSize: Number(batch),
    evalInterval: 0,
    checkpointInterval: 0,
    method: 'linupper',
  },
  {
    dataDir: data,
    outDir: out,
    collective,
    progress: false,
    evalBatches: 1,
    skipDataVerification: true,
  },
);
if ((collective?.rank ?? 0) === 0) {
  const tps = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"train"'))
    .map((l) => JSON.parse(l))
    .filter((r) => r.step > Number(warmup))
    .map((r) => r.tokensPerSecond)
    .sort((a, b) => a - b);
  const commShare = commMs / (performance.now() - started);
  process.stdout.write(
    `${JSON.stringify({ tokensPerSecond: tps[Math.floor(tps.length / 2)], commShare })}\n`,
  );
}
mpi?.finalize();

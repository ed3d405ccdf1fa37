// One process of bench/mpi-scaling.mjs: trains `model` for warm-up + timed steps on the
// dataset in argv[2] into argv[3], on MPI when started by mpirun (1 OpenBLAS thread per rank),
// and prints rank 0's median tokens/s of the timed steps as JSON. argv[8] = 'flat' sums the
// gradients in one all-reduce after backward (--no-overlap) instead of overlapped buckets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blasProviderOf, getBackend } from '@lrw/tensor';
import { detectLauncher, MpiCollective, trainRun } from '../dist/index.js';

const [data, out, model, batch, steps, warmup, reduction = 'overlap'] = process.argv.slice(2);
const mpi = detectLauncher() ? MpiCollective.init() : undefined;
// the same collective, timing the time this rank's main thread waits for communication: the
// blocking calls, and for the gradient buckets started during backward, the time from when the
// trainer awaits a bucket to its arrival (the communication that backward did not hide)
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
  overlapUnavailableReason: mpi.overlapUnavailableReason,
  startAllReduceSum: (x) => {
    const started = mpi.startAllReduceSum(x);
    started.catch(() => {});
    // a thenable on purpose: `await` calls then() when the trainer starts waiting for it
    return {
      // biome-ignore lint/suspicious/noThenProperty: timed from the moment it is awaited
      then(resolve, reject) {
        const t0 = performance.now();
        return started
          .finally(() => {
            commMs += performance.now() - t0;
          })
          .then(resolve, reject);
      },
      catch: (reject) => started.catch(reject),
    };
  },
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
    ...(reduction === 'flat' ? { allReduce: { overlap: false } } : {}),
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

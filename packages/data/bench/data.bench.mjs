// Benchmarks of @lrw/data (run: npm run bench in packages/data). Each number is reported with a
// peer measured in the same run:
// - tokenization: prepare() on 1, 1 worker and 2 workers vs gpt-tokenizer's encode called
//   directly on this thread (the ceiling of one core);
// - streaming: batches/s of the stream vs copying the same number of tokens from a Uint16Array
//   into an Int32Array (the ceiling of any loader); the prefetch worker's wait time while a
//   simulated trainer step runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearMergeCache, encode } from 'gpt-tokenizer/encoding/gpt2';
import { defaultCorpus, openDataset, prepare } from '../dist/index.js';

const MB = 1e6;
const budget = Number(process.env.LRW_BENCH_BYTES_PER_DOMAIN ?? 512 * 1024);
const corpus = defaultCorpus({ maxBytesPerDomain: budget });
const texts = corpus.documents.map((d) => d.text);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
const root = mkdtempSync(join(tmpdir(), 'lrw-data-bench-'));
const rows = [];
const row = (what, value, unit, note = '') => {
  rows.push({ what, value: Number(value.toFixed(2)), unit, note });
};
console.log(
  `default corpus: ${corpus.documents.length} documents, ${(bytes / MB).toFixed(2)} MB in 5 domains`,
);

try {
  // ---- tokenization ----
  // Every tokenizer starts cold: gpt-tokenizer's merge cache is cleared before each run on this
  // thread (workers start with an empty one).
  clearMergeCache();
  let t = performance.now();
  let cpu = process.cpuUsage();
  let tokens = 0;
  for (const text of texts) tokens += encode(text, { disallowedSpecial: new Set() }).length;
  const peer = bytes / MB / ((performance.now() - t) / 1000);
  const cpuSeconds = (c) => (c.user + c.system) / 1e6;
  const peerCpu = bytes / MB / cpuSeconds(process.cpuUsage(cpu));
  row(
    'gpt-tokenizer encode, this thread (peer)',
    peer,
    'MB/s',
    `${peerCpu.toFixed(2)} MB per CPU-s; ${tokens} tokens`,
  );
  const runs = {};
  for (const [tokenizer, workers] of [
    ['gpt2', 0],
    ['gpt2', 1],
    ['gpt2', 2],
    ['byte', 0],
    ['byte', 2],
  ]) {
    clearMergeCache();
    cpu = process.cpuUsage();
    const result = await prepare({
      sources: [corpus.source],
      outDir: join(root, `${tokenizer}-${workers}`),
      tokenizer,
      workers,
    });
    const rate = bytes / MB / result.seconds;
    const perCpu = bytes / MB / cpuSeconds(process.cpuUsage(cpu));
    runs[`${tokenizer}-${workers}`] = rate;
    row(
      `prepare ${tokenizer}, ${workers === 0 ? 'this thread' : `${workers} worker(s)`}`,
      rate,
      'MB/s',
      `${perCpu.toFixed(2)} MB per CPU-s (${(perCpu / peerCpu).toFixed(2)}x peer); ${result.seconds.toFixed(2)} s wall incl. scan, worker start, writes`,
    );
  }
  row(
    'prepare gpt2, 2 workers, per core',
    runs['gpt2-2'] / 2,
    'MB/s',
    `speed-up over 1 worker: ${(runs['gpt2-2'] / runs['gpt2-1']).toFixed(2)}x`,
  );

  // ---- streaming ----
  const ds = await openDataset(join(root, 'gpt2-2'));
  const B = 16;
  const T = 256;
  const n = 400;
  const copyPeer = () => {
    const src = new Uint16Array(B * (T + 1) * 64).map((_, i) => i % 50257);
    const dst = new Int32Array(B * T);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const off = (i % 64) * B * (T + 1);
      for (let r = 0; r < B; r++)
        dst.set(src.subarray(off + r * (T + 1), off + r * (T + 1) + T), r * T);
    }
    return n / ((performance.now() - start) / 1000);
  };
  const peerRate = copyPeer();
  row(`copy B*T tokens (peer), B=${B} T=${T}`, peerRate, 'batches/s');
  for (const packing of ['concat', 'document']) {
    const stream = ds.stream({ batchSize: B, seqLen: T, packing, prefetch: 0, seed: 1 });
    t = performance.now();
    for (let i = 0; i < n; i++) await stream.next();
    const rate = n / ((performance.now() - t) / 1000);
    row(
      `stream ${packing}, this thread`,
      rate,
      'batches/s',
      `${((rate * B * T) / 1e6).toFixed(1)} M tokens/s; ${(rate / peerRate).toFixed(2)}x peer`,
    );
  }
  const worker = ds.stream({ batchSize: B, seqLen: T, prefetch: 4, seed: 1 });
  t = performance.now();
  for (let i = 0; i < n; i++) await worker.next();
  const wrate = n / ((performance.now() - t) / 1000);
  row(
    'stream concat, prefetch worker (unthrottled)',
    wrate,
    'batches/s',
    `${((wrate * B * T) / 1e6).toFixed(1)} M tokens/s incl. worker start`,
  );
  await worker.close();
  // A trainer that computes for `stepMs` per batch: does next() ever make it wait?
  const stepMs = 20;
  const trained = ds.stream({ batchSize: B, seqLen: T, prefetch: 4, seed: 1 });
  await trained.next(); // worker start-up is paid once, before training
  const before = trained.stats();
  let maxWait = 0;
  for (let i = 0; i < 100; i++) {
    const asked = performance.now();
    await trained.next();
    maxWait = Math.max(maxWait, performance.now() - asked);
    const until = performance.now() + stepMs;
    while (performance.now() < until) {
      /* simulated forward/backward on this thread */
    }
  }
  const after = trained.stats();
  row(
    `trainer wait per step (${stepMs} ms steps, prefetch 4)`,
    (after.waitMs - before.waitMs) / 100,
    'ms',
    `max ${maxWait.toFixed(3)} ms over ${after.batches - before.batches} steps (after start-up)`,
  );
  await trained.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
console.table(rows);
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

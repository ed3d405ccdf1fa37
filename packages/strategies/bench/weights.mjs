// Benchmark of computeWeights (run `npm run bench` in packages/strategies; it builds first).
// Reports ns per sample for n = 8 .. 1e6, with a new output array per call (the default) and
// with `out` (no allocation), and, as peers measured in the same run, the ratio to (a) a naive
// array-method implementation of the same formula and (b) a bare loop of one Math.exp per
// sample (the floor any exact implementation pays). Then the min+gzip size of each entry of the
// built package (esbuild + zlib level 9, as src/bundle-size.test.ts checks).
//
// Inputs: Float32Array losses in [2, 6] from an LCG. Each call gets the next of 64 different
// loss vectors (2 for n > 4096), so the CPU's branch predictor cannot learn the batches by heart
// as it would with the same losses every call (with 16 vectors of 512 it still learned enough
// to flatter a loop with a data-dependent branch); a training loop never repeats a batch either.
//
// Then the latency a training step sees (`latency` below): single calls timed one by one between
// about 0.1 ms of other work that streams 256 KiB through the caches, one strategy per child
// process (a trainer uses one), new array and `out` interleaved.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { computeWeights } from '../dist/index.js';

const sizes = [8, 64, 512, 4096, 32_768, 262_144, 1_000_000];
const strategies = ['linupper', 'quadratic', 'extremes'];

function randomLosses(n, seed) {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = 2 + 4 * (x / 2 ** 32);
  }
  return out;
}

/** `count` loss vectors of n losses, each from its own seed. */
function lossVectors(n, count) {
  return Array.from({ length: count }, (_, k) => randomLosses(n, n + 7919 * k));
}

/** The temperature each strategy is benched at. */
const temperature = (strategy) => (strategy === 'quadratic' ? 1 : 0.4);

/** The same formula written the obvious way, with array methods (the peer). */
function naiveWeights(losses, r) {
  const l = Array.from(losses);
  const lo = l.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = l.reduce((a, b) => Math.max(a, b), -Infinity);
  const range = Math.max(hi - lo, 1e-6);
  const s = l.map((v) => Math.min((2 * v - hi - lo) / range + 1, 1));
  const top = s.reduce((a, b) => Math.max(a, b), -Infinity);
  const e = s.map((v) => Math.exp((v - top) / r));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** One Math.exp per sample into a Float64Array: the floor. */
function expOnly(losses) {
  const out = new Float64Array(losses.length);
  let z = 0;
  for (let i = 0; i < losses.length; i++) z += out[i] = Math.exp(losses[i] - 6);
  out[0] += z;
  return out;
}

let sink = 0;
if (process.argv[2] === '--latency') {
  latency(process.argv[3]);
  process.exit(0);
}
const cpuNs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
};
const BATCHES = 15;
/**
 * ns per call, measured in CPU time of this process (process.cpuUsage), not wall time: the
 * machine may be shared, and CPU time does not count the time other processes hold the core.
 * One clock read per batch of calls (at least 10 ms), never one per call. Warm-up first: calls
 * for at least 200 ms of CPU time, so TurboFan has optimized the code before timing. Returns the
 * minimum and the median over 15 batches.
 */
function time(fn) {
  const warm = cpuNs();
  while (cpuNs() - warm < 2e8) sink += fn()[0] ?? 0;
  let reps = 1;
  for (;;) {
    const t0 = cpuNs();
    for (let i = 0; i < reps; i++) sink += fn()[0] ?? 0;
    if (cpuNs() - t0 >= 1e7) break;
    reps *= 2;
  }
  const runs = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const t0 = cpuNs();
    for (let i = 0; i < reps; i++) sink += fn()[0] ?? 0;
    runs.push((cpuNs() - t0) / reps);
  }
  runs.sort((a, b) => a - b);
  return { min: runs[0], median: runs[BATCHES >> 1] };
}

console.log(
  `@lrw/strategies computeWeights, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ` +
    `Float32Array losses in [2, 6], CPU time per call (process.cpuUsage): median (min) of ${BATCHES} batches`,
);
console.log(
  'n         strategy   ns/call           ns/sample       with out: ns/sample  naive/ours  ' +
    'ours/exp-floor  exp-floor ns/sample',
);
/** The goals, for the summary: n = 512 per call, n = 1e6 per sample. */
const goals = [];
for (const n of sizes) {
  const inputs = lossVectors(n, n <= 4096 ? 64 : 2);
  let next = 0;
  const losses = () => inputs[next++ % inputs.length];
  const out = new Float64Array(n);
  for (const strategy of strategies) {
    const r = temperature(strategy);
    const ours = time(() => computeWeights(losses(), { strategy, r }));
    const withOut = time(() => computeWeights(losses(), { strategy, r, out }));
    const line = [
      String(n).padEnd(9),
      strategy.padEnd(10),
      `${ours.median.toFixed(0)} (${ours.min.toFixed(0)})`.padStart(17),
      `${(ours.median / n).toFixed(2)} (${(ours.min / n).toFixed(2)})`.padStart(15),
      `${(withOut.median / n).toFixed(2)} (${(withOut.min / n).toFixed(2)})`.padStart(20),
    ];
    if (strategy === 'linupper') {
      const naive = time(() => naiveWeights(losses(), r));
      const floor = time(() => expOnly(losses()));
      line.push(
        (naive.median / ours.median).toFixed(1).padStart(10),
        (ours.median / floor.median).toFixed(2).padStart(15),
        (floor.median / n).toFixed(2).padStart(20),
      );
    }
    console.log(line.join(' '));
    if (n === 512) {
      const us = (t) => `${(t.median / 1000).toFixed(2)} µs (min ${(t.min / 1000).toFixed(2)})`;
      goals.push(
        `n = 512, ${strategy}: ${us(ours)} new array, ${us(withOut)} with out (goal < 5 µs)`,
      );
    }
    if (n === 1_000_000) {
      const ns = (t) => `${(t.median / n).toFixed(2)} (min ${(t.min / n).toFixed(2)})`;
      goals.push(
        `n = 1e6, ${strategy}: ${ns(ours)} ns/sample new array, ${ns(withOut)} with out (goal < 20)`,
      );
    }
  }
}
// What a new output array alone costs (V8 puts a typed array over 64 bytes off the JS heap).
const alloc = time(() => new Float64Array(512));
goals.push(
  `n = 512: new Float64Array(512) alone ${(alloc.median / 1000).toFixed(2)} µs ` +
    `(min ${(alloc.min / 1000).toFixed(2)})`,
);
console.log('');
for (const line of goals) console.log(line);

/**
 * n = 512, one strategy: 6000 rounds of [other work, one timed call] for each of new array and
 * `out`, alternating; the first 2000 rounds warm up. Prints median, 10th and 90th percentile in
 * µs, less the cost of reading the clock (measured first).
 */
function latency(strategy) {
  const r = temperature(strategy);
  const inputs = lossVectors(512, 64);
  const work = new Float32Array(1 << 16);
  const now = () => Number(process.hrtime.bigint());
  const reads = Array.from({ length: 5001 }, () => -now() + now()).sort((a, b) => a - b);
  const clock = reads[2500];
  const out = new Float64Array(512);
  const modes = [
    ['new array', { strategy, r }, []],
    ['with out', { strategy, r, out }, []],
  ];
  for (let round = 0; round < 6000; round++) {
    for (const [, options, times] of modes) {
      for (let i = 0; i < work.length; i++) work[i] = work[i] * 0.5 + i;
      const t0 = now();
      const w = computeWeights(inputs[round & 63], options);
      const t1 = now();
      sink += w[0] + work[round & 65535];
      if (round >= 2000) times.push(t1 - t0 - clock);
    }
  }
  const line = [strategy.padEnd(10)];
  for (const [mode, , t] of modes) {
    t.sort((a, b) => a - b);
    const us = (q) => (t[Math.floor(q * t.length)] / 1000).toFixed(2);
    line.push(`${mode} ${us(0.5)} µs (p10 ${us(0.1)}, p90 ${us(0.9)})`);
  }
  console.log(line.join('   '));
}

console.log('');
console.log(
  'n = 512, latency between other work (0.1 ms streaming 256 KiB), wall time per call, one ' +
    'process per strategy: median (10th, 90th percentile) of 4000 calls',
);
for (const strategy of strategies) {
  process.stdout.write(
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--latency', strategy]),
  );
}

async function bundleSize(contents) {
  const result = await build({
    stdin: { contents, resolveDir: new URL('.', import.meta.url).pathname, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    platform: 'neutral',
  });
  const code = result.outputFiles[0].contents;
  return `${code.length} B minified, ${gzipSync(code, { level: 9 }).length} B min+gzip`;
}

console.log('');
for (const [label, contents] of [
  ['@lrw/strategies (goal < 4000 B)', "export * from '../dist/index.js';"],
  ['@lrw/strategies/distributed', "export * from '../dist/distributed.js';"],
  ['@lrw/strategies/per-sample-loss', "export * from '../dist/per-sample-loss.js';"],
  [
    'computeWeights + weightStats only (tree-shaken)',
    "export { computeWeights, weightStats } from '../dist/index.js';",
  ],
]) {
  console.log(`bundle, ${label}: ${await bundleSize(contents)}`);
}
if (sink === 42) console.log(''); // keep results alive

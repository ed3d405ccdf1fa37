// Benchmark of computeWeights (run `npm run bench` in packages/strategies after `npx tsc -b`).
// Reports ns per sample for n = 8 .. 1e6 and, as the peer measured in the same run, the ratio
// to (a) a naive array-method implementation of the same formula and (b) a bare loop of one
// Math.exp per sample (the floor any exact implementation pays). Then the bundle size of the
// built package, minified and gzipped with esbuild + zlib.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { computeWeights } from '../dist/index.js';

const sizes = [8, 64, 512, 4096, 32_768, 262_144, 1_000_000];
const strategies = ['linupper', 'quadratic', 'extremes'];

function randomLosses(n, seed) {
  // Deterministic LCG: the same inputs on every run.
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = 2 + 4 * (x / 2 ** 32);
  }
  return out;
}

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
const cpuNs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
};
/**
 * ns per call, measured in CPU time of this process (process.cpuUsage), not wall time: the
 * machine may be shared, and CPU time does not count the time other processes hold the core.
 * Batches of at least 20 ms; the minimum over 7 batches.
 */
function time(fn) {
  for (let i = 0; i < 5; i++) sink += fn()[0] ?? 0; // warm-up (JIT)
  let reps = 1;
  for (;;) {
    const t0 = cpuNs();
    for (let i = 0; i < reps; i++) sink += fn()[0] ?? 0;
    if (cpuNs() - t0 >= 2e7) break;
    reps *= 2;
  }
  let best = Infinity;
  for (let batch = 0; batch < 7; batch++) {
    const t0 = cpuNs();
    for (let i = 0; i < reps; i++) sink += fn()[0] ?? 0;
    best = Math.min(best, (cpuNs() - t0) / reps);
  }
  return best;
}

console.log(
  `@lrw/strategies computeWeights, Node ${process.version}, Float32Array losses in [2, 6], ` +
    'CPU time (process.cpuUsage) per call',
);
console.log(
  'n         strategy   ns/call      ns/sample  naive/ours  ours/exp-floor  exp-floor ns/sample',
);
for (const n of sizes) {
  const losses = randomLosses(n, n);
  for (const strategy of strategies) {
    const r = strategy === 'quadratic' ? 1 : 0.4;
    const ours = time(() => computeWeights(losses, { strategy, r }));
    const line = [String(n).padEnd(9), strategy.padEnd(10), ours.toFixed(0).padStart(10)];
    line.push((ours / n).toFixed(2).padStart(10));
    if (strategy === 'linupper') {
      const naive = time(() => naiveWeights(losses, r));
      const floor = time(() => expOnly(losses));
      line.push(
        (naive / ours).toFixed(1).padStart(10),
        (ours / floor).toFixed(2).padStart(14),
        (floor / n).toFixed(2).padStart(20),
      );
    }
    console.log(line.join(' '));
  }
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
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const whole = await bundleSize("export * from '../dist/index.js';");
const core = await bundleSize("export { computeWeights, weightStats } from '../dist/index.js';");
console.log(
  `\nbundle, whole package: ${whole.min} B minified, ${whole.gzip} B min+gzip ` +
    `(goal < 4096 B)\nbundle, computeWeights + weightStats only (tree-shaken): ${core.min} B ` +
    `minified, ${core.gzip} B min+gzip`,
);
if (sink === 42) console.log(''); // keep results alive

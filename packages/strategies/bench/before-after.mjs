// computeWeights of an earlier commit against the working tree's sources, alternating in one
// process so that the machine's load hits both alike: CPU time per sample, median (minimum).
//
//   node bench/before-after.mjs <git revision> [n] [strategy]
//   e.g. node bench/before-after.mjs HEAD~1 512 linupper
//
// Both are bundled from their TypeScript sources with esbuild (as src/bundle-size.test.ts
// measures them); `out` is given, so no allocation is timed. The numbers in bench/RESULTS.md
// come from this script.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const [revision = 'HEAD', nArg = '512', strategy = 'linupper'] = process.argv.slice(2);
const n = Number(nArg);
const pkg = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'lrw-before-after-'));
try {
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], {
    cwd: pkg,
    encoding: 'utf8',
  }).trim();
  const archive = execFileSync('git', ['archive', revision, 'packages/strategies/src'], {
    cwd: root,
  });
  execFileSync('tar', ['-x', '-C', work], { input: archive });
  const entries = {
    before: join(work, 'packages/strategies/src/index.ts'),
    after: join(pkg, 'src/index.ts'),
  };
  const mods = {};
  for (const [name, entry] of Object.entries(entries)) {
    const outfile = join(work, `${name}.mjs`);
    await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      outfile,
    });
    mods[name] = (await import(pathToFileURL(outfile).href)).computeWeights;
  }

  // 64 different loss vectors (2 above n = 4096), as bench/weights.mjs, so the branch predictor
  // cannot learn one batch.
  const vectors = Array.from({ length: n > 4096 ? 2 : 64 }, (_, k) => {
    const out = new Float32Array(n);
    let x = (n + 7919 * k) >>> 0;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      out[i] = 2 + 4 * (x / 2 ** 32);
    }
    return out;
  });
  const r = strategy === 'quadratic' ? 1 : 0.4;
  const cpuNs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) * 1000;
  };
  const reps = Math.max(1, Math.round(2e6 / n));
  const times = { before: [], after: [] };
  let sink = 0;
  for (let round = 0; round < 40; round++) {
    for (const name of ['before', 'after']) {
      const computeWeights = mods[name];
      const out = new Float64Array(n);
      const t0 = cpuNs();
      for (let i = 0; i < reps; i++) {
        sink += computeWeights(vectors[i % vectors.length], { strategy, r, out })[0];
      }
      // The first 5 rounds warm up (TurboFan).
      if (round >= 5) times[name].push((cpuNs() - t0) / reps / n);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const show = (a) => `${median(a).toFixed(2)} (${Math.min(...a).toFixed(2)})`;
  console.log(
    `n = ${n}, ${strategy}: before (${revision}) ${show(times.before)} ns/sample, ` +
      `after ${show(times.after)}, after / before ${(median(times.after) / median(times.before)).toFixed(2)}` +
      (sink > 0 ? '' : ' (!)'),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The goal: the package's main entry under 4 kB (4000 B, the decimal kilobyte: the
 * stricter reading) minified and gzipped, measured as
 * bench/weights.mjs does (esbuild bundle + minify, ESM, platform neutral; gzip level 9). Built
 * from the TypeScript sources, which esbuild compiles to the same size as dist/ within a few
 * bytes, so the check needs no build first.
 */
async function minGzip(entry: string): Promise<number> {
  const result = await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
  });
  return gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
}

describe('bundle size (min+gzip)', () => {
  it('main entry @lrw/strategies is under 4000 B', async () => {
    const size = await minGzip('./index.ts');
    console.log(`@lrw/strategies: ${size} B min+gzip (limit: under 4000 B)`);
    expect(size).toBeGreaterThan(1000); // a broken bundle would be tiny
    expect(size).toBeLessThan(4000);
  });

  it('the subpath entries bundle on their own', async () => {
    for (const entry of ['./distributed.ts', './per-sample-loss.ts']) {
      const size = await minGzip(entry);
      console.log(`@lrw/strategies/${entry.slice(2, -3)}: ${size} B min+gzip`);
      expect(size).toBeGreaterThan(300);
    }
  });
});

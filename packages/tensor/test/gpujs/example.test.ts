/**
 * The README's gpujs example, run as written in headless Chromium (WebGL2 on SwiftShader when
 * there is no GPU): the snippet after `<!-- gpujs example -->` becomes the page's module script,
 * with console.log captured. Skips with the reason when Chromium, gpu.js or the build is missing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper shared with the browser benchmark
import { browserUnavailable, runInChromium } from './browser-page.mjs';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const at = readme.indexOf('<!-- gpujs example -->');
const snippet = readme.slice(readme.indexOf('```js\n', at) + 6, readme.indexOf('```\n', at + 30));
const why: string | undefined = browserUnavailable();

describe('README gpujs example', () => {
  it('is there', () => {
    expect(at).toBeGreaterThan(0);
    expect(snippet).toContain("setBackend('gpujs')");
  });
  it.skipIf(!!why)(
    `prints what its comment says${why ? ` (skipped: ${why})` : ''}`,
    async () => {
      const imports = snippet.match(/^import .*$/gm)?.join('\n') ?? '';
      const body = snippet.replace(/^import .*$/gm, '');
      const script = `${imports}
const logged = [];
const log = (...xs) => logged.push(xs.map((x) => JSON.stringify(x)).join(' '));
try {
  await (async (console) => {${body}})({ log });
  globalThis.result = { logged };
} catch (e) {
  globalThis.result = { error: String(e?.stack ?? e) };
}`;
      const r = await runInChromium(script, { timeoutMs: 120_000 });
      expect(r.error).toBeUndefined();
      expect(r.logged).toEqual(['[8,11,16,23]']);
      expect(snippet).toContain('// [ 8, 11, 16, 23 ]');
    },
    150_000,
  );
});

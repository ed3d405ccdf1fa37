import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Every ```js block of the README is a complete program: it is run as written (importing the
// built package by name), and each `// → text` line under a console.log must be what it printed.
const pkg = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
// Inside the package folder, so `@lrw/eval` resolves to this build as it would when installed.
const dir = mkdtempSync(join(pkg, '.readme-snippets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README snippets', () => {
  it('has snippets to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });
  blocks.forEach((code, i) => {
    const first = code.split('\n').find((l) => l.includes('import {') && l.includes("'@lrw/eval'"));
    it(`snippet ${i + 1} (${first?.trim() ?? 'no import'}) runs and prints what it says`, () => {
      const file = join(dir, `snippet-${i + 1}.mjs`);
      writeFileSync(file, code);
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
      const expected = [...code.matchAll(/^\/\/ → (.*)$/gm)].map((m) => m[1]);
      expect(expected.length).toBeGreaterThan(0);
      expect(out.trimEnd().split('\n')).toEqual(expected);
    });
  });
});

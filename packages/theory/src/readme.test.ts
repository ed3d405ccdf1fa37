import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/*
 * Every ```js block of the README runs (against the built package, as a user imports it), and
 * each `// prints: ...` comment is the line it prints, in order.
 */
const root = new URL('..', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const built = existsSync(new URL('dist/index.js', root));

describe('README', () => {
  it('has runnable examples', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.skipIf(!built)(
    'every js block runs and prints what its comments say (needs the build)',
    () => {
      blocks.forEach((code, k) => {
        const expected = [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]);
        // Inside the package folder, so that '@lrw/theory' resolves as it does for a user.
        const file = new URL(`.readme-snippet-${process.pid}-${k}.mjs`, root);
        writeFileSync(file, code);
        try {
          const run = spawnSync(process.execPath, [file.pathname], { encoding: 'utf8' });
          expect(run.status, run.stderr).toBe(0);
          expect(run.stdout.trimEnd().split('\n')).toEqual(expected);
        } finally {
          rmSync(file, { force: true });
        }
      });
    },
  );
});

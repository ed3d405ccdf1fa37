import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarize } from './summarize-tests.mjs';

const root = mkdtempSync(join(tmpdir(), 'lrw-summarize-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function workspace(name, report) {
  const dir = join(root, 'packages', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `@lrw/${name}`, scripts: { test: 'vitest run' } }),
  );
  if (report) writeFileSync(join(dir, '.vitest-results.json'), JSON.stringify(report(dir)));
}

describe('summarize', () => {
  it('sums every workspace, counts a file that did not load, and names each failure', () => {
    workspace('a', (dir) => ({
      numPassedTests: 3,
      numFailedTests: 1,
      numPendingTests: 2,
      testResults: [
        {
          name: join(dir, 'src/pool.test.ts'),
          status: 'failed',
          assertionResults: [
            { fullName: 'pool > ok', status: 'passed' },
            {
              fullName: 'pool > reports a trap',
              status: 'failed',
              failureMessages: ['\nAssertionError: expected false to be true\n    at x.ts:1'],
            },
          ],
        },
        {
          name: join(dir, 'src/broken.test.ts'),
          status: 'failed',
          message: 'SyntaxError: Unexpected token\nstack',
          assertionResults: [],
        },
      ],
    }));
    workspace('b', () => ({ numPassedTests: 4, numFailedTests: 0, testResults: [] }));
    workspace('c');
    const s = summarize(root);
    expect(s).toMatchObject({ passed: 7, failed: 2, skipped: 2, missing: ['@lrw/c'] });
    expect(s.failures).toEqual([
      '@lrw/a: src/pool.test.ts > pool > reports a trap: AssertionError: expected false to be true',
      '@lrw/a: src/broken.test.ts: did not load (SyntaxError: Unexpected token)',
    ]);
  });
});

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeReport } from './html-report.js';
import { writeSyntheticRun } from './report-fixture.test-helpers.js';

// Renders the report in a real browser when Debian's chromium is installed
// (apt-get install chromium); the screenshot is left in the temporary folder named in the log.
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (chromium === undefined) console.warn('report-chromium test skipped: no chromium in /usr/bin');
const run = promisify(execFile);
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--hide-scrollbars',
];

const root = mkdtempSync(join(tmpdir(), 'lrw-report-chromium-'));
afterAll(() => {
  // keep the screenshot as an artifact, drop the run directories
  for (const d of ['uniform', 'linupper']) rmSync(join(root, d), { recursive: true, force: true });
});

describe.skipIf(chromium === undefined)('HTML report in headless Chromium', () => {
  it('parses into the expected charts and tables, and renders a screenshot', async () => {
    const dirs = [
      writeSyntheticRun(root, 'uniform', 'uniform', 0, { steps: 200 }).dir,
      writeSyntheticRun(root, 'linupper', 'linupper', 0, { steps: 200, gain: 0.05 }).dir,
    ];
    const html = join(root, 'report.html');
    await writeReport(dirs, html);
    const url = `file://${html}`;
    // the DOM as the browser built it: every figure, path and table row survived parsing
    const { stdout: dom } = await run(chromium!, [...FLAGS, '--dump-dom', url], {
      maxBuffer: 64 << 20,
    });
    expect(dom.match(/<figure class="chart">/g)!.length).toBe(2 + 7 + 5 + 3);
    expect(dom.match(/<svg /g)!.length).toBe(2 + 7 + 5 + 3);
    expect(dom.match(/<path class="line"/g)!.length).toBeGreaterThanOrEqual(
      2 * (2 + 7 + 5 + 3) - 2,
    );
    expect(dom).toContain('<tr class="mean"><th scope="row">mean</th>');
    const png = join(root, 'report.png');
    await run(chromium!, [...FLAGS, `--screenshot=${png}`, '--window-size=1200,2400', url]);
    expect(statSync(png).size).toBeGreaterThan(50_000); // a blank page is a few KB
    console.log(`report screenshot: ${png}`);
  });
});

// Sums the Vitest JSON reports (`.vitest-results.json`) written by every workspace's test run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every workspace folder (packages/*, tooling/*, experiments/*) with its package.json. */
export function listWorkspaces(root) {
  const out = [];
  for (const group of ['packages', 'tooling', 'experiments']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const dir = join(base, name);
      const pkgPath = join(dir, 'package.json');
      if (!existsSync(pkgPath)) continue;
      out.push({ dir, pkg: JSON.parse(readFileSync(pkgPath, 'utf8')) });
    }
  }
  return out;
}

export function summarize(root) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const missing = [];
  /** 'package: file > test: first line of the message', for a log whose tail is all one sees. */
  const failures = [];
  for (const { dir, pkg } of listWorkspaces(root)) {
    if (!pkg.scripts?.test) continue;
    const file = join(dir, '.vitest-results.json');
    if (!existsSync(file)) {
      missing.push(pkg.name);
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    // A test file that failed to load (syntax error, throw at import) has no test results:
    // count it as one failure so it cannot pass unnoticed.
    const brokenFiles = (report.testResults ?? []).filter(
      (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
    ).length;
    failed += (report.numFailedTests ?? 0) + brokenFiles;
    for (const file of report.testResults ?? []) {
      const where = `${pkg.name}: ${file.name?.startsWith(dir) ? file.name.slice(dir.length + 1) : file.name}`;
      const tests = file.assertionResults ?? [];
      if (file.status === 'failed' && tests.length === 0) {
        failures.push(`${where}: did not load (${firstLine(file.message)})`);
      }
      for (const t of tests.filter((x) => x.status === 'failed')) {
        failures.push(`${where} > ${t.fullName ?? t.title}: ${firstLine(t.failureMessages?.[0])}`);
      }
    }
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  }
  return { passed, failed, skipped, missing, failures };
}

function firstLine(text) {
  const line = String(text ?? '')
    .split('\n')
    .find((l) => l.trim() !== '');
  return (line ?? 'no message').trim().slice(0, 300);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL('../..', import.meta.url).pathname;
  const { passed, failed, skipped } = summarize(root);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}

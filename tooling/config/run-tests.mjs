#!/usr/bin/env node
// `npm test`: lint, build, typecheck and unit tests of every workspace through turbo, then one
// summed "N passed, N failed" line so that a run that executed no test is visible.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { listWorkspaces, summarize } from './summarize-tests.mjs';

const root = new URL('../..', import.meta.url).pathname;
for (const ws of listWorkspaces(root))
  rmSync(join(ws.dir, '.vitest-results.json'), { force: true });

const args = [
  'turbo',
  'run',
  'lint',
  'build',
  'typecheck',
  'test',
  '--continue',
  '--concurrency=2',
];
const extra = process.argv.slice(2);
const run = spawnSync('npx', [...args, ...extra], { cwd: root, stdio: 'inherit' });
const rc = run.status ?? 1;

const { passed, failed, skipped, missing, failures } = summarize(root);
for (const line of failures) console.log(`FAILED ${line}`);
for (const name of missing)
  console.log(`no test results from ${name}: its build or tests did not run`);
const ok = rc === 0 && failed === 0 && missing.length === 0;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok ? 0 : rc || 1);

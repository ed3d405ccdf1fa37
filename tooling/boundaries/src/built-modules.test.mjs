// Every built module of every package imports on its own (ARCHITECTURE.md: a circular import
// that "happens to work" through the entry point is a defect). Each module is imported in a
// fresh worker thread (its own module graph) by a child process; the workers run a few at a time.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
const importEach = new URL('./import-each.mjs', import.meta.url).pathname;
const fixtures = new URL('../fixtures/import-alone', import.meta.url).pathname;

/**
 * Modules that are programs, not libraries: importing one runs it. Package `bin` targets are
 * found in package.json; worker entries are listed here with what they need.
 */
const WORKER_ENTRIES = {
  'data/dist/prepare/tokenize-worker.js':
    'a worker thread of the tokenizer pool (needs workerData)',
  'data/dist/stream/stream-worker.js': 'the prefetch worker of TokenStream (needs workerData)',
};

function* jsFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(path);
    else if (/\.m?js$/.test(entry.name) && !/\.test\.m?js$/.test(entry.name)) yield path;
  }
}

function packages() {
  return readdirSync(packagesDir)
    .filter((f) => existsSync(join(packagesDir, f, 'package.json')))
    .map((folder) => {
      const pkg = JSON.parse(readFileSync(join(packagesDir, folder, 'package.json'), 'utf8'));
      const bins = Object.values(
        typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {}),
      );
      return { folder, dist: join(packagesDir, folder, 'dist'), bins };
    });
}

/**
 * Imports each of `files` alone (in a child process, asynchronously so that the test worker
 * stays responsive); resolves to the failures.
 */
function importAlone(files) {
  const lanes = Math.max(2, availableParallelism());
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [importEach, '--concurrency', String(lanes), ...files],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`import-each.mjs failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()).filter((r) => r.error));
      },
    );
  });
}

describe('every built module imports on its own', () => {
  it('catches a module that crashes when imported first (fixture: two modules in a cycle)', async () => {
    const failed = await importAlone(
      ['tdz-a.mjs', 'tdz-b.mjs', 'fine.mjs'].map((f) => join(fixtures, f)),
    );
    expect(failed.map((f) => relative(fixtures, f.module))).toEqual(['tdz-a.mjs', 'tdz-b.mjs']);
    expect(failed[0].error).toMatch(/Cannot access 'table' before initialization/);
  });

  it("runs after every package's build (turbo.json)", () => {
    const turbo = JSON.parse(readFileSync(join(root, 'turbo.json'), 'utf8'));
    const deps = turbo.tasks['@lrw/boundaries#test']?.dependsOn ?? [];
    const missing = packages()
      .map((p) => JSON.parse(readFileSync(join(packagesDir, p.folder, 'package.json'), 'utf8')))
      .map((pkg) => `${pkg.name}#build`)
      .filter((task) => !deps.includes(task));
    expect(missing, 'add these to tasks["@lrw/boundaries#test"].dependsOn in turbo.json').toEqual(
      [],
    );
  });

  it('lists only worker entries that exist (the list does not rot)', () => {
    for (const path of Object.keys(WORKER_ENTRIES)) {
      expect(existsSync(join(packagesDir, path)), `${path} is gone: remove it from the list`).toBe(
        true,
      );
    }
  });

  // ~240 modules, each loading its own copy of what it imports: ~15 s on two idle cores, minutes
  // on a loaded machine, hence the long timeout.
  it('every package: each dist module alone, in a fresh module graph', {
    timeout: 600_000,
  }, async () => {
    const files = [];
    for (const p of packages()) {
      if (!existsSync(p.dist)) {
        throw new Error(
          `packages/${p.folder}/dist is missing: run \`npm run build\` first (turbo.json makes @lrw/boundaries#test depend on every package's build)`,
        );
      }
      const skip = new Set(p.bins.map((b) => join(packagesDir, p.folder, b)));
      for (const file of jsFiles(p.dist)) {
        if (skip.has(file) || relative(packagesDir, file) in WORKER_ENTRIES) continue;
        files.push(file);
      }
    }
    expect(files.length).toBeGreaterThan(100);
    const failed = (await importAlone(files)).map(
      (f) => `${relative(packagesDir, f.module)}: ${f.error.split('\n')[0]}`,
    );
    expect(failed).toEqual([]);
  });
});

// `npx lrw` from the repository root after the README's set-up (`npm ci && npm run build`).
// npm links a workspace's bin when it installs, before any build; a bin pointing into dist/
// is then skipped, and npx looks for a package named `lrw` in the registry (404). The bins are
// committed files that load the build, so the link exists on a fresh clone: this test checks
// the links npm made here (CI runs it on a fresh clone) and runs the commands through npx.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './packages.mjs';

const BINS = {
  lrw: 'packages/trainer/bin/lrw.js',
  'lrw-theory': 'packages/theory/bin/lrw-theory.js',
};
const run = (cmd, args, cwd = root) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('npx lrw from the repository root', () => {
  for (const [name, target] of Object.entries(BINS)) {
    it(`node_modules/.bin/${name} is linked to the committed ${target}`, () => {
      let linked;
      try {
        linked = realpathSync(join(root, 'node_modules', '.bin', name));
      } catch {
        throw new Error(`node_modules/.bin/${name} is missing: run \`npm ci\` at the root`);
      }
      expect(linked).toBe(realpathSync(join(root, target)));
    });
  }

  it('npx lrw --help and npx lrw-theory --help answer (no registry look-up)', () => {
    const lrw = run('npx', ['--no-install', 'lrw', '--help']);
    expect(lrw.stderr).toBe('');
    expect(lrw.status).toBe(0);
    expect(lrw.stdout).toMatch(/^Usage: lrw \[options\] \[command\]/);
    expect(lrw.stdout).toContain('Start with:\n  lrw demo');
    const theory = run('npx', ['--no-install', 'lrw-theory', '--help']);
    expect(theory.status, theory.stderr).toBe(0);
    expect(theory.stdout).toContain('lrw-theory');
  });

  it('before the build, the command says to build instead of failing obscurely', () => {
    for (const [name, target] of Object.entries(BINS)) {
      const pkg = mkdtempSync(join(tmpdir(), `lrw-bin-${name}-`));
      mkdirSync(join(pkg, 'bin'));
      const bin = join(pkg, 'bin', target.split('/').pop());
      copyFileSync(join(root, target), bin);
      const r = run(process.execPath, [bin, '--help'], pkg);
      expect(r.status, name).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`^${name}: .*not built .*\\nHINT: run \`npm run build\``),
      );
    }
  });

  it('lrw --help | head stops quietly when the reader closes the pipe', () => {
    const r = run('sh', ['-c', `node ${BINS.lrw} --help | head -1`]);
    expect(r.stdout).toBe('Usage: lrw [options] [command]\n');
    expect(r.stderr).toBe('');
    // the same with a long output and an early close: no EPIPE stack
    const long = run('bash', [
      '-c',
      `node ${BINS.lrw} train --help | head -c 10; echo " rc=\${PIPESTATUS[0]}"`,
    ]);
    expect(long.stdout).toMatch(/ rc=0\n$/);
    expect(long.stderr).not.toContain('EPIPE');
  });
});

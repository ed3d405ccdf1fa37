// Every published package carries what issue #2 asks of it: an exports map with types, the
// files list, sideEffects, a README, a changeset-managed CHANGELOG, an entry point and a test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const packagesDir = new URL('../../../packages', import.meta.url).pathname;
const folders = readdirSync(packagesDir).filter((f) =>
  existsSync(join(packagesDir, f, 'package.json')),
);

describe('package manifests', () => {
  it('has the seven packages of ARCHITECTURE.md', () => {
    for (const name of ['tensor', 'models', 'data', 'strategies', 'theory', 'eval', 'trainer']) {
      expect(folders).toContain(name);
    }
  });

  for (const folder of folders) {
    it(`${folder}: exports, types, files, sideEffects, README, CHANGELOG, entry and tests`, () => {
      const dir = join(packagesDir, folder);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(pkg.name).toBe(`@lrw/${folder}`);
      expect(pkg.type).toBe('module');
      expect(pkg.exports?.['.']?.types).toBe('./dist/index.d.ts');
      expect(pkg.exports?.['.']?.import).toBe('./dist/index.js');
      expect(pkg.types).toBe('./dist/index.d.ts');
      expect(pkg.files).toContain('dist');
      expect(pkg).toHaveProperty('sideEffects');
      expect(pkg.scripts?.test).toBeTruthy();
      expect(existsSync(join(dir, 'README.md'))).toBe(true);
      expect(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8')).toMatch(
        new RegExp(`^# @lrw/${folder}`),
      );
      expect(existsSync(join(dir, 'src', 'index.ts'))).toBe(true);
      const tests = readdirSync(join(dir, 'src'), { recursive: true }).filter((f) =>
        String(f).endsWith('.test.ts'),
      );
      expect(tests.length).toBeGreaterThan(0);
    });
  }
});

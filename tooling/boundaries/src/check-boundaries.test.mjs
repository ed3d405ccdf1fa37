import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, importsOf, loadAllowed, packageOf } from './check-boundaries.mjs';

function fakeRepo(files) {
  const dir = mkdtempSync(join(tmpdir(), 'lrw-boundaries-'));
  for (const [path, text] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, text);
  }
  return dir;
}

describe('dependency boundaries', () => {
  it('the real packages respect ARCHITECTURE.md', () => {
    const packagesDir = new URL('../../../packages', import.meta.url).pathname;
    expect(checkBoundaries(packagesDir, loadAllowed())).toEqual([]);
  });

  it('parses static, type-only, re-export, dynamic and require imports', () => {
    const src = `import { a } from '@lrw/tensor';\nimport type { B } from "@lrw/models/x";\nexport * from './local.js';\nconst m = await import('@lrw/data');\nconst r = require('@lrw/eval');\nimport 'side-effect';`;
    expect(importsOf(src).map(packageOf)).toEqual([
      '@lrw/tensor',
      '@lrw/models',
      null,
      '@lrw/data',
      '@lrw/eval',
      'side-effect',
    ]);
  });

  it('flags an illegal import in source (strategies must not import tensor)', () => {
    const dir = fakeRepo({
      'strategies/package.json': JSON.stringify({ name: '@lrw/strategies' }),
      'strategies/src/index.ts': `import { Tensor } from '@lrw/tensor';\nexport const x = Tensor;\n`,
    });
    const v = checkBoundaries(dir, loadAllowed());
    expect(v).toHaveLength(1);
    expect(v[0].imported).toBe('@lrw/tensor');
    expect(v[0].where).toBe(join('strategies', 'src', 'index.ts'));
  });

  it('flags an upward dependency in package.json (tensor must not depend on models)', () => {
    const dir = fakeRepo({
      'tensor/package.json': JSON.stringify({
        name: '@lrw/tensor',
        dependencies: { '@lrw/models': '0.0.0' },
      }),
    });
    expect(checkBoundaries(dir, loadAllowed()).map((x) => x.imported)).toEqual(['@lrw/models']);
  });

  it('flags eval importing models directly, but allows the trainer to', () => {
    const dir = fakeRepo({
      'eval/package.json': JSON.stringify({ name: '@lrw/eval' }),
      'eval/src/a.ts': `import { GPT2 } from '@lrw/models';`,
      'trainer/package.json': JSON.stringify({ name: '@lrw/trainer' }),
      'trainer/src/a.ts': `import { GPT2 } from '@lrw/models';`,
    });
    const v = checkBoundaries(dir, loadAllowed());
    expect(v.map((x) => x.pkg)).toEqual(['@lrw/eval']);
  });

  it('flags a package that the allowed graph does not know', () => {
    const dir = fakeRepo({ 'newpkg/package.json': JSON.stringify({ name: '@lrw/newpkg' }) });
    expect(checkBoundaries(dir, loadAllowed())[0].reason).toMatch(/not listed/);
  });
});

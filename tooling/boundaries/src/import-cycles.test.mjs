import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeCycle,
  findImportCycles,
  runtimeImportsOf,
  sharedVerbatimModuleSyntax,
} from './import-cycles.mjs';

const packagesDir = new URL('../../../packages', import.meta.url).pathname;
const fixtures = new URL('../fixtures/import-cycles', import.meta.url).pathname;

describe('runtime import cycles', () => {
  it('the real packages have none (ARCHITECTURE.md: layers are one-way at run time)', () => {
    const cycles = findImportCycles(packagesDir, {
      verbatimModuleSyntax: sharedVerbatimModuleSyntax(),
    });
    expect(cycles.map(describeCycle)).toEqual([]);
  });

  it('the repository compiles with verbatimModuleSyntax (what the check assumes by default)', () => {
    expect(sharedVerbatimModuleSyntax()).toBe(true);
  });

  it('keeps the imports that load a module and drops the ones TypeScript erases', () => {
    const src = [
      "import type { A } from './type-only.js';",
      "import { type B } from './inline-type.js';",
      "import { type C, d } from './mixed.js';",
      "import e from './default.js';",
      "import * as f from './namespace.js';",
      "import './side-effect.js';",
      "export type { G } from './export-type.js';",
      "export { type H } from './export-inline-type.js';",
      "export { i } from './reexport.js';",
      "export * from './star.js';",
      "const lazy = () => import('./dynamic.js');",
      "const text = `import { x } from './in-a-string.js';`;",
    ].join('\n');
    expect(runtimeImportsOf(src, { verbatimModuleSyntax: true })).toEqual([
      './inline-type.js',
      './mixed.js',
      './default.js',
      './namespace.js',
      './side-effect.js',
      './export-inline-type.js',
      './reexport.js',
      './star.js',
    ]);
    // Without verbatimModuleSyntax, imports whose names are all `type` are elided too.
    expect(runtimeImportsOf(src, { verbatimModuleSyntax: false })).toEqual([
      './mixed.js',
      './default.js',
      './namespace.js',
      './side-effect.js',
      './reexport.js',
      './star.js',
    ]);
  });

  it('finds the cycles of the fixture packages, and only those', () => {
    const cycles = findImportCycles(fixtures, { verbatimModuleSyntax: true });
    expect(cycles.map((c) => [c.pkg, c.cycle])).toEqual([
      [
        '@fixture/cyclic',
        [
          join('cyclic', 'src', 'a.ts'),
          join('cyclic', 'src', 'b.ts'),
          join('cyclic', 'src', 'c.ts'),
          join('cyclic', 'src', 'a.ts'),
        ],
      ],
      [
        '@fixture/inline-type',
        [
          join('inline-type', 'src', 'p.ts'),
          join('inline-type', 'src', 'q.ts'),
          join('inline-type', 'src', 'p.ts'),
        ],
      ],
      [
        '@fixture/self',
        [
          join('self', 'src', 'helper.ts'),
          join('self', 'src', 'index.ts'),
          join('self', 'src', 'helper.ts'),
        ],
      ],
    ]);
    expect(describeCycle(cycles[0])).toBe(
      '@fixture/cyclic: runtime import cycle cyclic/src/a.ts -> cyclic/src/b.ts -> cyclic/src/c.ts -> cyclic/src/a.ts',
    );
  });

  it('does not count `import { type X }` without verbatimModuleSyntax', () => {
    const cycles = findImportCycles(fixtures, { verbatimModuleSyntax: false });
    expect(cycles.map((c) => c.pkg)).toEqual(['@fixture/cyclic', '@fixture/self']);
  });
});

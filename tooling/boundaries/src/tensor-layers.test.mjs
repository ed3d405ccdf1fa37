// @lrw/tensor's run-time layers (ARCHITECTURE.md, "The tensor core"): backend.ts (storage +
// kernels) <- engine/autograd <- op table and ops <- Tensor <- the entry point, which registers
// the built-in backends. No module below imports the registry or a concrete backend; a backend
// imports only the contract and the helpers beneath it. Checked on what each module loads at run
// time, directly or not (type-only imports excepted).
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph, runtimeClosure, sharedVerbatimModuleSyntax } from './import-cycles.mjs';

const pkgDir = new URL('../../../packages/tensor', import.meta.url).pathname;
const src = join(pkgDir, 'src');
const graph = importGraph(pkgDir, { verbatimModuleSyntax: sharedVerbatimModuleSyntax() });
const modules = [...graph.keys()].map((f) => relative(src, f)).filter((f) => !/\.test/.test(f));

const BACKEND_DIRS = /^(cpu|cpu-wasm|cpu-blas|webgpu|gpujs|cuda)\//;
const OPS = /^ops\//;

/** What `module` loads at run time that matches `forbidden`. */
function reaches(module, forbidden) {
  return [...runtimeClosure(graph, join(src, module))]
    .map((f) => relative(src, f))
    .filter((f) => forbidden(f));
}

const rules = [
  {
    layer: 'the contract and the shared kernel tables',
    modules: ['backend.ts', 'kernel-backend.ts'],
    forbidden: (f) => f !== 'errors.ts' && f !== 'philox.ts' && !f.startsWith('shape'),
  },
  {
    layer: 'the backends (storage + kernels)',
    modules: [
      'cpu/cpu-backend.ts',
      'cpu-wasm/fast-kernels.ts',
      'cpu-wasm/wasm-kernels.ts',
      'webgpu/backend.ts',
      'webgpu/kernels.ts',
      'gpujs/backend.ts',
      'gpujs/kernels.ts',
      'cuda/backend.ts',
      'cuda/kernels.ts',
    ],
    forbidden: (f) =>
      OPS.test(f) ||
      [
        'engine.ts',
        'autograd.ts',
        'op-table.ts',
        'routine.ts',
        'registry.ts',
        'tensor.ts',
        'creation.ts',
        'builtin-backends.ts',
      ].includes(f),
  },
  {
    layer: 'engine and autograd',
    modules: ['engine.ts', 'autograd.ts', 'storage.ts', 'registry.ts'],
    forbidden: (f) =>
      BACKEND_DIRS.test(f) ||
      OPS.test(f) ||
      ['registry.ts', 'tensor.ts', 'op-table.ts', 'creation.ts'].includes(f),
  },
  {
    layer: 'the op table and ops',
    modules: ['op-table.ts', 'routine.ts', ...modules.filter((f) => OPS.test(f))],
    forbidden: (f) =>
      BACKEND_DIRS.test(f) ||
      ['registry.ts', 'tensor.ts', 'creation.ts', 'builtin-backends.ts'].includes(f),
  },
  {
    layer: 'the Tensor class',
    modules: ['tensor.ts'],
    forbidden: (f) => BACKEND_DIRS.test(f) || ['creation.ts', 'builtin-backends.ts'].includes(f),
  },
];

describe('@lrw/tensor run-time layers', () => {
  it('finds the package sources', () => {
    expect(modules.length).toBeGreaterThan(50);
  });

  for (const rule of rules) {
    it(`${rule.layer} load nothing above them`, () => {
      const found = {};
      for (const m of rule.modules) {
        expect(modules, `${m} is gone: update this rule`).toContain(m);
        const bad = reaches(m, rule.forbidden);
        if (bad.length) found[m] = bad;
      }
      expect(found).toEqual({});
    });
  }

  it('only the entry point and the backend assemblies load concrete backends', () => {
    const concrete = new Set([
      'cpu/cpu-backend.ts',
      'webgpu/backend.ts',
      'cpu-wasm/fast-kernels.ts',
    ]);
    const importers = modules.filter(
      (m) =>
        !BACKEND_DIRS.test(m) &&
        (graph.get(join(src, m)) ?? []).some((f) => concrete.has(relative(src, f))),
    );
    expect(importers.sort()).toEqual(['builtin-backends.ts', 'index.ts']);
  });
});

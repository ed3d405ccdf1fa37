import { readFileSync } from 'node:fs';
// The example imports the package by name (the built dist/), so the check must use the same instance.
import { assertNoLeaks } from '@lrw/tensor';
import { describe, expect, it } from 'vitest';
import { customCpuBackend } from '../examples/custom-kernel.js';
import { fitWithAdamW } from '../examples/fast-cpu-adamw.js';
import { trainLinearClassifier } from '../examples/linear-classifier.js';

describe('README example', () => {
  it('trains: the loss falls, and nothing leaks', async () => {
    const losses = await assertNoLeaks(() => trainLinearClassifier(20));
    expect(losses).toHaveLength(20);
    expect(losses[19]).toBeLessThan(losses[0] * 0.7);
  });

  it('the README shows the example file verbatim', () => {
    const ex = readFileSync(new URL('../examples/linear-classifier.ts', import.meta.url), 'utf8');
    const body = ex.slice(ex.indexOf('// region readme\n') + 17, ex.indexOf('// endregion readme'));
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(body.trim());
  });
});

describe('README fast-CPU AdamW example', () => {
  it('fits with the wasm matmul and the one-pass AdamW, leaking nothing', async () => {
    const { losses, paths, fast } = await assertNoLeaks(() => fitWithAdamW(30));
    expect(fast).toBe(true);
    expect(new Set(paths)).toEqual(new Set(['wasm']));
    expect(losses[29]).toBeLessThan(losses[0] * 0.8);
  });

  it('the README shows the example file verbatim', () => {
    const ex = readFileSync(new URL('../examples/fast-cpu-adamw.ts', import.meta.url), 'utf8');
    const body = ex.slice(ex.indexOf('// region readme\n') + 17, ex.indexOf('// endregion readme'));
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(body.trim());
  });
});

describe('docs/backends.md extension example (a kernel and a routine)', () => {
  it('uses both, matches softmax, and passes the conformance checks it runs', async () => {
    const { probs, sumCalls, passed, failed } = await customCpuBackend();
    const e = [1, 2, 3].map((v) => Math.exp(v - 3));
    const z = e.reduce((a, b) => a + b);
    for (const [i, p] of probs.entries()) expect(p).toBeCloseTo(e[i]! / z, 6);
    expect(sumCalls).toBeGreaterThan(0);
    expect(failed).toBe(0);
    expect(passed).toBeGreaterThan(4);
  });

  it('docs/backends.md shows the example file verbatim', () => {
    const ex = readFileSync(new URL('../examples/custom-kernel.ts', import.meta.url), 'utf8');
    const body = ex.slice(ex.indexOf('// region readme\n') + 17, ex.indexOf('// endregion readme'));
    const guide = readFileSync(new URL('../docs/backends.md', import.meta.url), 'utf8');
    expect(guide).toContain(body.trim());
  });
});

import { describe, expect, it } from 'vitest';
import { wasmKernelsOf } from '../cpu-wasm/fast-backend.js';
import { getBackend, opTable } from '../index.js';
import { conformanceChecks, runConformanceSuite } from './index.js';

// The shared suite on both CPU backends, one test per check: 'cpu-reference' (the reference
// kernels, the definition) and 'cpu' (the default: wasm SIMD matmul, tensors in wasm memory).
describe('conformance: cpu-reference', () => {
  for (const c of conformanceChecks('cpu-reference')) {
    it.skipIf(!!c.skipReason)(c.name, c.run);
  }
});

describe('conformance: cpu (wasm fast path)', () => {
  it('the default cpu backend is the fast one here', () => {
    expect(wasmKernelsOf(getBackend('cpu'))).toBeDefined();
  });
  for (const c of conformanceChecks('cpu')) {
    it.skipIf(!!c.skipReason)(c.name, c.run);
  }
});

describe('conformance suite itself', () => {
  it('covers every op-table entry, including the composed ones', () => {
    const ops = new Set(conformanceChecks('cpu').map((c) => c.op));
    for (const name of opTable.keys()) expect(ops.has(name), name).toBe(true);
    expect(opTable.size).toBeGreaterThanOrEqual(45);
  });

  it('reports a wrong kernel as a failure naming the element', async () => {
    const { createCpuBackend, registerBackend } = await import('../index.js');
    registerBackend('cpu-broken-exp', () => {
      const b = createCpuBackend({ name: 'cpu-broken-exp' });
      const exp = b.kernel('exp')!;
      b.registerKernel('exp', (call, cpu) => {
        exp(call, cpu);
        cpu.array(call.output)[call.output.offset] += 1e-3;
      });
      return b;
    });
    const report = await runConformanceSuite('cpu-broken-exp', {
      only: ['exp', 'neg'],
      skip: { neg: 'testing skips' },
    });
    expect(
      report.failed.map((f) => f.name).some((n) => n.includes('exp') && n.includes('forward')),
    ).toBe(true);
    expect(report.failed[0].message).toMatch(/element 0/);
    expect(report.skipped.length).toBeGreaterThan(0);
  });
});

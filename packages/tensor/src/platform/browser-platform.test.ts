// The cpu-wasm kernels and the default 'cpu' backend with the browser platform swapped in for
// the Node one (as package.json's "browser" field and the browser check's import map do): one
// thread, no worker, results equal to the reference kernels.
import { describe, expect, it, vi } from 'vitest';

vi.mock('./node.js', async () => await import('./browser.js'));

const { createWasmKernels, createWasmKernelsSync } = await import('../cpu-wasm/wasm-kernels.js');
const { platform } = await import('./node.js');
const { getBackend, tensor, tidy } = await import('../index.js');
const { wasmKernelsOf } = await import('../cpu-wasm/fast-backend.js');

describe('cpu-wasm kernels on the browser platform', () => {
  it('the mock is in place', () => {
    expect(platform.name).toBe('browser');
  });

  it('default to one thread and multiply a product above the parallel threshold', () => {
    const mm = createWasmKernelsSync();
    expect(mm.threads).toBe(1);
    const [m, n, k] = [96, 80, 112]; // 2*m*n*k = 1.7 MFLOP > the 1 MFLOP threshold
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(3 * i));
    const c = mm.matmul(a, b, new Float32Array(m * n), m, n, k);
    let worst = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
        worst = Math.max(worst, Math.abs(c[i * n + j]! - s) / (1 + Math.abs(s)));
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('asking for threads fails with the fix in the message', async () => {
    await expect(createWasmKernels({ threads: 2 })).rejects.toThrow(
      /threads = 2, but this environment has no worker threads.*use threads: 1/,
    );
    expect(() => createWasmKernelsSync({ threads: 2 })).toThrow(/no worker threads/);
  });

  it("the registry's 'cpu' backend runs the wasm kernels on one thread", () => {
    const mm = wasmKernelsOf(getBackend('cpu'));
    if (mm) expect(mm.threads).toBe(1); // undefined: OpenBLAS took the matmul (Node only)
    const x = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i));
    const w = Float32Array.from({ length: 48 * 40 }, (_, i) => Math.cos(i));
    const product = (backend: string) =>
      tidy(() =>
        Array.from(
          tensor(x, { shape: [64, 48], backend })
            .matmul(tensor(w, { shape: [48, 40], backend }))
            .dataSync(),
        ),
      );
    const fast = product('cpu');
    const reference = product('cpu-reference');
    for (let i = 0; i < fast.length; i++) {
      expect(Math.abs(fast[i]! - reference[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(reference[i]!)));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { type CpuBackend, cpuReferenceKernels, createCpuBackend } from '../cpu/cpu-backend.js';
import { cpuFusedRoutines } from '../cpu/fused-routines.js';
import { stridedMatmulCases } from '../cpu/matmul-cases.test-helpers.js';
import {
  getBackend,
  loadBackend,
  randn,
  registerBackend,
  routineOf,
  type Tensor,
  tensor,
  tidy,
} from '../index.js';
import { conformanceChecks, runConformanceSuite } from '../testing/index.js';
import { createDefaultCpuBackend, createFastCpuBackend, wasmKernelsOf } from './fast-backend.js';

// Products through the fast kernel's view mapping (transpose flags, merged batch axes,
// broadcast operands, packed slices) against the reference backend on the same data.
registerBackend('cpu-fast-heap', () =>
  createFastCpuBackend({
    name: 'cpu-fast-heap',
    storage: 'wasm-heap',
    blas: 'off',
    wasmKernels: wasmKernelsOf(getBackend('cpu')),
  }),
);
// The wasm gemm with ArrayBuffer storage even where the native BLAS is installed (the default
// 'cpu' uses OpenBLAS then, see src/cpu-blas/; and its tensors live in the wasm heap).
registerBackend('cpu-wasm-only', () =>
  createFastCpuBackend({
    name: 'cpu-wasm-only',
    storage: 'array-buffer',
    blas: 'off',
    wasmKernels: wasmKernelsOf(getBackend('cpu')),
  }),
);
// Default ('auto') storage over a heap capped at 32 MiB: tensors fill it up to 16 MiB (the
// kernels' own scratch takes ~7), later ones overflow into ArrayBuffers, and ops mix both.
const SMALL_HEAP = 32 << 20;
registerBackend('cpu-small-heap', () =>
  createFastCpuBackend({
    name: 'cpu-small-heap',
    blas: 'off',
    wasm: { threads: 1, maximumMemoryBytes: SMALL_HEAP },
  }),
);

function _rnd(shape: number[], seed: number, backend: string): Tensor {
  return randn(shape, { seed, backend });
}

describe('fast cpu matmul kernel', () => {
  for (const be of ['cpu', 'cpu-wasm-only', 'cpu-fast-heap']) {
    for (const [name, make] of stridedMatmulCases) {
      it(`${be}: ${name} matches the reference kernel`, async () => {
        await loadBackend(be);
        const ref = tidy(() => make('cpu-reference').dataSync());
        const got = tidy(() => make(be).dataSync());
        expect(got.length).toBe(ref.length);
        let worst = 0;
        for (let i = 0; i < ref.length; i++) {
          worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) / (1e-5 + Math.abs(ref[i]!)));
        }
        expect(worst).toBeLessThan(1e-3);
      });
    }
  }

  it('int32 matmul calls (not exposed by ops) fall back to the reference kernel', () => {
    const fast = createFastCpuBackend({ wasmKernels: wasmKernelsOf(getBackend('cpu')) });
    const ref = createCpuBackend();
    for (const be of [fast, ref]) {
      const a = be.alloc(16);
      const b = be.alloc(16);
      const c = be.alloc(16);
      be.write(a, new Int32Array([1, 2, 3, 4]));
      be.write(b, new Int32Array([5, 6, 7, 8]));
      const view = (buf: typeof a) => ({
        buf,
        dtype: 'int32' as const,
        shape: [2, 2],
        strides: [2, 1],
        offset: 0,
      });
      be.run({ kernel: 'matmul', inputs: [view(a), view(b)], output: view(c), attrs: {} });
      expect([...new Int32Array(be.readSync(c))]).toEqual([19, 22, 43, 50]);
      for (const x of [a, b, c]) be.free(x);
    }
    expect(fast.kernel('matmul')).not.toBe(cpuReferenceKernels.matmul);
  });
});

describe('default cpu backend', () => {
  it("storage 'wasm-heap' keeps tensors in the shared memory but reads out private ArrayBuffers", async () => {
    const be = (await loadBackend('cpu-fast-heap')) as CpuBackend;
    const t = tensor([1, 2, 3], { backend: 'cpu-fast-heap' });
    const heap = wasmKernelsOf(be)!.heap;
    expect(heap.contains(be.array(t.view()))).toBe(true);
    const bytes = be.readSync(t.storage.buf);
    expect(bytes).toBeInstanceOf(ArrayBuffer);
    expect([...new Float32Array(bytes)]).toEqual([1, 2, 3]);
    expect(heap.contains(t.dataSync())).toBe(false);
    t.dispose();
  });

  it("storage 'wasm-heap' passes the conformance checks of the ops it speeds up", async () => {
    const report = await runConformanceSuite('cpu-fast-heap', {
      only: [
        'matmul',
        'scaledDotProductAttention',
        'linearCrossEntropy',
        'layerNorm',
        'gelu',
        'add',
      ],
    });
    expect(report.failed).toEqual([]);
    expect(report.passed.length).toBeGreaterThan(20);
  });

  it('registers the fused GELU, LayerNorm and linearCrossEntropy routines (conformance runs them), unless asked not to', () => {
    const be = getBackend('cpu') as CpuBackend;
    // GELU on the wasm vector exp (gelu-routine.ts), not the float64 JavaScript routine.
    expect(be.routine('gelu')).toBeDefined();
    expect(be.routine('gelu')).not.toBe(cpuFusedRoutines.gelu);
    // LayerNorm likewise on the wasm kernels (norm-routine.ts).
    expect(be.routine('layerNorm')).toBeDefined();
    expect(be.routine('layerNorm')).not.toBe(cpuFusedRoutines.layerNorm);
    expect(be.routine('linearCrossEntropy')).toBeDefined();
    // Attention: the blockwise routine on the backend's gemm (src/cpu/blockwise-attention.ts).
    expect(be.routine('scaledDotProductAttention')).toBeDefined();
    expect(be.routine('scaledDotProductAttention')).not.toBe(
      cpuFusedRoutines.scaledDotProductAttention,
    );
    const plain = createFastCpuBackend({ fusedRoutines: false, wasmKernels: wasmKernelsOf(be) });
    expect(plain.routine('gelu')).toBeUndefined();
    expect(routineOf(getBackend('cpu-reference'), 'gelu')).toBeUndefined();
  });

  it('LRW_TENSOR_CPU selects the reference kernels, and rejects unknown values', () => {
    expect(wasmKernelsOf(createDefaultCpuBackend('reference'))).toBeUndefined();
    expect(() => createDefaultCpuBackend('gpu')).toThrow(/LRW_TENSOR_CPU=gpu.*'reference'/);
  });

  it("default storage keeps tensors in the heap while it has room, then in ArrayBuffers; 'wasm-heap' throws instead", async () => {
    const be = (await loadBackend('cpu-small-heap')) as CpuBackend;
    const heap = wasmKernelsOf(be)!.heap;
    const n = 1 << 20; // 4 MiB each: at most 2 fit below 16 MiB besides the kernels' scratch
    const ts = Array.from({ length: 6 }, (_, i) =>
      tensor(
        Float32Array.from({ length: n }, (_, j) => i + j / n),
        { backend: 'cpu-small-heap' },
      ),
    );
    const inHeap = ts.map((t) => heap.contains(be.array(t.view())));
    expect(inHeap[0]).toBe(true);
    expect(inHeap.at(-1)).toBe(false);
    // add on the wasm kernel with one operand in the heap and one outside, and a product.
    const sum = ts[0]!.add(ts[5]!).dataSync();
    for (const j of [0, 1, n - 1]) expect(sum[j]).toBeCloseTo(5 + (2 * j) / n, 5);
    const a = ts[0]!.reshape([1024, 1024]);
    const b = ts[5]!.reshape([1024, 1024]);
    const got = a.matmul(b).dataSync();
    const av = a.dataSync();
    const bv = b.dataSync();
    for (const [i, j] of [
      [3, 7],
      [1023, 1000],
    ] as const) {
      let want = 0;
      for (let k = 0; k < 1024; k++) want += av[i * 1024 + k]! * bv[k * 1024 + j]!;
      expect(Math.abs(got[i * 1024 + j]! - want)).toBeLessThan(1e-4 * Math.abs(want));
    }
    for (const t of [...ts, a, b]) t.dispose();
    // Freed heap blocks are reused; ArrayBuffer blocks are left to the garbage collector.
    be.emptyPool();
    const again = tensor(new Float32Array(n), { backend: 'cpu-small-heap' });
    expect(heap.contains(be.array(again.view()))).toBe(true);
    again.dispose();
    const strict = createFastCpuBackend({
      storage: 'wasm-heap',
      blas: 'off',
      wasm: { threads: 1, maximumMemoryBytes: SMALL_HEAP },
    });
    expect(() => strict.alloc(2 * SMALL_HEAP)).toThrow(/wasm heap exhausted/);
  });

  it('refuses heap storage on a private (non-shared) wasm memory with a clear message', () => {
    expect(() =>
      createFastCpuBackend({ wasm: { sharedMemory: false }, storage: 'wasm-heap' }),
    ).toThrow(/array-buffer/);
  });
});

describe('conformance: cpu with the wasm gemm (BLAS off)', () => {
  for (const c of conformanceChecks('cpu-wasm-only')) {
    it.skipIf(!!c.skipReason)(c.name, c.run);
  }
});

import { describe, expect, it } from 'vitest';
import { cpuReferenceKernels, createCpuBackend } from '../cpu/cpu-backend.js';
import { stridedMatmulChecks } from '../cpu/matmul-cases.test-helpers.js';
import {
  blasProviderOf,
  cpuProvider,
  createFastCpuBackend,
  wasmKernelsOf,
} from '../cpu-wasm/fast-backend.js';
import { linearCrossEntropyRoutine } from '../cpu-wasm/linear-cross-entropy.js';
import {
  getBackend,
  linearCrossEntropy,
  loadBackend,
  randn,
  registerBackend,
  tensor,
  tidy,
} from '../index.js';
import { conformanceChecks } from '../testing/index.js';
import { type Gemm, reference, values } from './gemm-reference.test-helpers.js';
import { blasMatmulKernel } from './matmul-kernel.js';
import { loadBlasProvider } from './provider.js';

// The native BLAS provider (lrw_blas addon + the system's OpenBLAS), checked against a float64
// naive product and the reference backend. Skipped, with the reason printed, where the addon is
// not built or no OpenBLAS is installed.
const loaded = loadBlasProvider();
const blas = loaded.provider;
const noBlas = !blas;
if (noBlas) console.log(`skipping the BLAS provider tests: ${loaded.reason}`);

const sgemmCases: [string, Gemm, number, number, number][] = [
  // name, gemm, length of A, B, C
  ['plain 33x45 * 45x27', { m: 33, n: 27, k: 45 }, 33 * 45, 45 * 27, 33 * 27],
  ['A^T', { m: 33, n: 27, k: 45, transA: true }, 33 * 45, 45 * 27, 33 * 27],
  ['B^T', { m: 33, n: 27, k: 45, transB: true }, 33 * 45, 45 * 27, 33 * 27],
  ['both transposed', { m: 17, n: 40, k: 9, transA: true, transB: true }, 153, 360, 680],
  [
    'strided rows (lda 3k, a head of a fused qkv), offsets, ldc > n',
    { m: 20, n: 16, k: 8, lda: 24, offsetA: 8, ldb: 20, offsetB: 3, ldc: 19, offsetC: 2 },
    20 * 24 + 8,
    8 * 20 + 3,
    20 * 19 + 2,
  ],
  [
    'batched 5 x (12x7 * 7x10), B^T',
    { m: 12, n: 10, k: 7, transB: true, batch: 5 },
    5 * 84,
    5 * 70,
    5 * 120,
  ],
  [
    'batched with a broadcast B (stride 0) and padded strides',
    { m: 6, n: 9, k: 4, batch: 4, strideA: 30, strideB: 0, strideC: 60 },
    4 * 30,
    36,
    4 * 60,
  ],
  ['alpha 0.5, beta 1 (accumulate)', { m: 16, n: 16, k: 16, alpha: 0.5, beta: 1 }, 256, 256, 256],
  ['K = 0 with beta 1 keeps C', { m: 3, n: 4, k: 0, beta: 1 }, 1, 1, 12],
  ['K = 0 with beta 0 zeroes C', { m: 3, n: 4, k: 0 }, 1, 1, 12],
];

describe.skipIf(noBlas)('BLAS provider: sgemm against a float64 product', () => {
  it('reports the library, its configuration and the thread count', () => {
    expect(blas!.name).toBe('openblas');
    expect(blas!.library).toMatch(/openblas/);
    expect(blas!.threads).toBeGreaterThanOrEqual(1);
  });

  it('setThreads reaches OpenBLAS (process-wide) and threads reads it back', () => {
    const before = blas!.threads;
    expect(blas!.setThreads(1)).toBe(1);
    expect(blas!.threads).toBe(1);
    expect(blas!.setThreads(before)).toBe(before);
  });

  for (const [name, g, la, lb, lc] of sgemmCases) {
    it(name, () => {
      const a = values(la, 1);
      const b = values(lb, 2);
      const c = values(lc, 3);
      const want = reference(g, a, b, c);
      const { m, n, k, ...args } = g;
      blas!.sgemm(a, b, c, m, n, k, args);
      let worst = 0;
      for (let i = 0; i < lc; i++) worst = Math.max(worst, Math.abs(c[i]! - want[i]!));
      // |error| <= k eps sum|a b| with |a|, |b| < 1.
      expect(worst).toBeLessThan(Math.max(k, 1) * 2 ** -22);
    });
  }

  it('operands that start inside a larger buffer (subarrays) are used in place', () => {
    const big = values(200, 4);
    const a = big.subarray(10, 10 + 12);
    const b = big.subarray(50, 50 + 12);
    const c = new Float32Array(300).subarray(100, 109);
    blas!.matmul(a, b, c, 3, 3, 4);
    const want = reference({ m: 3, n: 3, k: 4 }, a, b, new Float32Array(9));
    for (let i = 0; i < 9; i++) expect(c[i]).toBeCloseTo(want[i]!, 5);
  });

  it('rejects operands too short for the sizes and strides, naming the lengths', () => {
    const a = new Float32Array(6);
    const c = new Float32Array(4);
    expect(() => blas!.sgemm(a, a, c, 2, 2, 4)).toThrow(RangeError);
    expect(() => blas!.sgemm(a, a, c, 2, 2, 4)).toThrow(/A needs 8 of 6/);
    expect(() => blas!.sgemm(a, a, c, 2, 2, 3, { lda: 2 })).toThrow(/leading dimensions/);
    expect(() =>
      blas!.sgemm(a, a, c, 1, 2, 3, { batch: 2, strideA: 0, strideB: 0, strideC: 1 }),
    ).toThrow(/overlap/);
    expect(() => blas!.sgemm(a, a, c, 1, 1, 1, { offsetA: -1 })).toThrow(/non-negative/);
  });
});

// Every product through BLAS (minFlops 0), and a wasm-only twin (BLAS off) for comparison.
registerBackend('cpu-blas-all', () =>
  createFastCpuBackend({
    name: 'cpu-blas-all',
    blas: 'required',
    blasMinFlops: 0,
    wasmKernels: wasmKernelsOf(getBackend('cpu')),
  }),
);

const rnd = (shape: number[], seed: number, backend: string) => randn(shape, { seed, backend });

describe.skipIf(noBlas)('BLAS matmul kernel: strided views against the reference backend', () => {
  for (const [name, check] of stridedMatmulChecks('cpu-blas-all')) {
    it(name, async () => {
      expect(await check()).toBeLessThan(1e-5);
    });
  }

  it('products below minFlops go to the fallback kernel, larger ones to BLAS', async () => {
    let fallbackCalls = 0;
    registerBackend('cpu-blas-threshold', () =>
      createCpuBackend({
        name: 'cpu-blas-threshold',
        kernels: {
          matmul: blasMatmulKernel(
            blas!,
            (call, cpu) => {
              fallbackCalls++;
              cpuReferenceKernels.matmul!(call, cpu);
            },
            { minFlops: 2 * 8 * 8 * 8 },
          ),
        },
      }),
    );
    await loadBackend('cpu-blas-threshold');
    const product = (n: number) =>
      tidy(() =>
        rnd([n, n], 1, 'cpu-blas-threshold')
          .matmul(rnd([n, n], 2, 'cpu-blas-threshold'))
          .dataSync(),
      );
    const small = product(7);
    expect(fallbackCalls).toBe(1);
    const large = product(8);
    expect(fallbackCalls).toBe(1);
    const want = tidy(() =>
      rnd([8, 8], 1, 'cpu-reference')
        .matmul(rnd([8, 8], 2, 'cpu-reference'))
        .dataSync(),
    );
    for (let i = 0; i < 64; i++) expect(large[i]).toBeCloseTo(want[i]!, 5);
    expect(small.length).toBe(49);
    const be = createFastCpuBackend({ wasmKernels: wasmKernelsOf(getBackend('cpu')) });
    expect(cpuProvider(be)).toBe('openblas');
    expect(blasProviderOf(be)).toBe(blas);
  });

  it('linearCrossEntropy on the BLAS gemm matches the wasm one (values and gradients)', async () => {
    const mm = wasmKernelsOf(getBackend('cpu'))!;
    const run = async (name: string, gemm: typeof blas) => {
      registerBackend(name, () =>
        createFastCpuBackend({
          name,
          wasmKernels: mm,
          blas: 'off',
          routines: {
            linearCrossEntropy: linearCrossEntropyRoutine(mm, { chunkFloats: 300, gemm }),
          },
        }),
      );
      await loadBackend(name);
      return tidy(() => {
        const x = randn([2, 5, 16], { seed: 7, backend: name }).requireGrad();
        const w = randn([50, 16], { seed: 8, backend: name }).requireGrad();
        const t = tensor([1, 2, 3, 49, 0, 5, -100, 7, 8, 9], {
          dtype: 'int32',
          shape: [2, 5],
          backend: name,
        });
        const loss = linearCrossEntropy(x, w, t);
        loss.sum().backward();
        return [loss.dataSync(), x.grad!.dataSync(), w.grad!.dataSync()];
      });
    };
    const viaWasm = await run('lce-probe-wasm', undefined);
    const viaBlas = await run('lce-probe-blas', blas);
    for (let i = 0; i < 3; i++) {
      const a = viaWasm[i]!;
      const b = viaBlas[i]!;
      expect(b.length).toBe(a.length);
      for (let j = 0; j < a.length; j++) expect(b[j]).toBeCloseTo(a[j]!, 4);
    }
  });
});

describe('BLAS selection', () => {
  it("blas: 'off' keeps the wasm gemm; the reference backend reports 'reference'", () => {
    const be = createFastCpuBackend({ blas: 'off', wasmKernels: wasmKernelsOf(getBackend('cpu')) });
    expect(cpuProvider(be)).toBe('wasm');
    expect(blasProviderOf(be)).toBeUndefined();
    expect(cpuProvider(createCpuBackend())).toBe('reference');
  });

  it('rejects a negative keepHeadLogitsBytes, naming the value', () => {
    expect(() =>
      createFastCpuBackend({
        keepHeadLogitsBytes: -1,
        wasmKernels: wasmKernelsOf(getBackend('cpu')),
      }),
    ).toThrow(/keepHeadLogitsBytes=-1: expected a number of bytes >= 0/);
  });

  it('rejects unknown modes, naming the accepted ones', () => {
    expect(() => createFastCpuBackend({ blas: 'maybe' as 'auto' })).toThrow(
      /blas=maybe.*'auto'.*'off'.*'required'/,
    );
  });

  it.skipIf(!noBlas)("blas: 'required' without the addon or library throws the reason", () => {
    expect(() => createFastCpuBackend({ blas: 'required' })).toThrow(/native BLAS is unavailable/);
  });

  it.skipIf(noBlas)("blas: 'auto' (the default) uses OpenBLAS where it is installed", () => {
    expect(
      cpuProvider(createFastCpuBackend({ wasmKernels: wasmKernelsOf(getBackend('cpu')) })),
    ).toBe('openblas');
  });
});

describe.skipIf(noBlas)('conformance: cpu with every product on BLAS', () => {
  for (const c of conformanceChecks('cpu-blas-all')) {
    it.skipIf(!!c.skipReason)(c.name, c.run);
  }
});

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stridedMatmulChecks } from '../cpu/matmul-cases.test-helpers.js';
import {
  blasProviderOf,
  cpuProvider,
  createFastCpuBackend,
  wasmKernelsOf,
} from '../cpu-wasm/fast-backend.js';
import {
  gelu,
  getBackend,
  linearCrossEntropy,
  loadBackend,
  randn,
  registerBackend,
  scaledDotProductAttention,
  tensor,
  tidy,
} from '../index.js';
import { conformanceChecks } from '../testing/index.js';
import {
  addressing,
  expectEachClose,
  type Gemm,
  reference,
  values,
} from './gemm-reference.test-helpers.js';
import { type BlasProvider, loadNativeGemmProvider } from './provider.js';

// The addon's own blocked sgemm (native/lrw_gemm.c), both micro-kernels ('best': AVX2 + FMA on
// such CPUs; 'portable'), checked against a float64 naive product over shapes that cross every
// blocking edge (MR = 6, NR = 16, KC = 384, MC = 48, NC = 2048), then as the CPU backend's
// matmul provider. Skipped, with the reason printed, where the addon is not built.
const best = loadNativeGemmProvider();
const portable = loadNativeGemmProvider({ isa: 'portable' });
const noNative = !best.provider;
if (noNative) console.log(`skipping the native gemm tests: ${best.reason}`);

type Case = [name: string, gemm: Gemm];

const cases: Case[] = [
  ['1 x 1 x 1', { m: 1, n: 1, k: 1 }],
  ['row vector 1 x 37 (K 19)', { m: 1, n: 37, k: 19 }],
  ['column vector 41 x 1 (K 23)', { m: 41, n: 1, k: 23 }],
  ['K = 1 outer product 13 x 29', { m: 13, n: 29, k: 1 }],
  ['exact micro-tiles 12 x 32 x 8', { m: 12, n: 32, k: 8 }],
  ['odd 7 x 17 x 5', { m: 7, n: 17, k: 5 }],
  ['odd 31 x 33 x 35, A^T', { m: 31, n: 33, k: 35, transA: true }],
  ['odd 19 x 45 x 27, B^T', { m: 19, n: 45, k: 27, transB: true }],
  ['odd 23 x 21 x 18, A^T B^T', { m: 23, n: 21, k: 18, transA: true, transB: true }],
  ['K across the 384-deep slice (K 400), beta 0', { m: 8, n: 20, k: 400 }],
  [
    'K 800 (three slices), A^T B^T, beta 1',
    { m: 7, n: 18, k: 800, transA: true, transB: true, beta: 1 },
  ],
  ['M across the 48-row block (M 100), B^T', { m: 100, n: 17, k: 9, transB: true }],
  ['N across the 2048-column block (N 2100)', { m: 7, n: 2100, k: 5 }],
  ['N 2100, B^T, alpha 2, beta 0.5', { m: 5, n: 2100, k: 6, transB: true, alpha: 2, beta: 0.5 }],
  [
    'lda, ldb, ldc past the row (a head of a fused qkv), offsets',
    { m: 20, n: 16, k: 8, lda: 24, offsetA: 8, ldb: 20, offsetB: 3, ldc: 19, offsetC: 2 },
  ],
  [
    'padded leading dimensions with both transposed, beta 1',
    { m: 9, n: 14, k: 11, transA: true, transB: true, lda: 12, ldb: 13, ldc: 17, beta: 1 },
  ],
  ['alpha -0.5, beta 1 (accumulate)', { m: 16, n: 16, k: 16, alpha: -0.5, beta: 1 }],
  ['alpha 0 keeps beta C', { m: 5, n: 6, k: 7, alpha: 0, beta: 0.25 }],
  ['batched 5 x (12 x 7 * 7 x 10), B^T', { m: 12, n: 10, k: 7, transB: true, batch: 5 }],
  [
    'batched with a broadcast B (stride 0) and padded strides',
    { m: 6, n: 9, k: 4, batch: 4, strideA: 30, strideB: 0, strideC: 60 },
  ],
  ['K = 0 with beta 1 keeps C', { m: 3, n: 4, k: 0, beta: 1 }],
  ['K = 0 with beta 0 zeroes C', { m: 3, n: 4, k: 0 }],
];

/** Element counts the addressing of `g` touches (operand lengths for the test buffers). */
function lengths(g: Gemm): [number, number, number] {
  const { m, n, k } = g;
  const { ta, tb, lda, ldb, ldc } = addressing(g);
  const batch = g.batch ?? 1;
  const rowsA = ta ? k : m;
  const rowsB = tb ? n : k;
  const span = (off: number, stride: number, rows: number, ld: number) =>
    Math.max(1, off + (batch - 1) * stride + rows * ld);
  return [
    span(g.offsetA ?? 0, g.strideA ?? m * k, rowsA, lda),
    span(g.offsetB ?? 0, g.strideB ?? k * n, rowsB, ldb),
    span(g.offsetC ?? 0, g.strideC ?? m * n, m, ldc),
  ];
}

/** Runs `g` on `gemm` and returns the worst |error| against the float64 product, and C. */
function check(gemm: BlasProvider, g: Gemm): { worst: number; c: Float32Array } {
  const [la, lb, lc] = lengths(g);
  const a = values(la, 1);
  const b = values(lb, 2);
  const c = values(lc, 3);
  const want = reference(g, a, b, c);
  const { m, n, k, ...args } = g;
  gemm.sgemm(a, b, c, m, n, k, args);
  let worst = 0;
  for (let i = 0; i < lc; i++) worst = Math.max(worst, Math.abs(c[i]! - want[i]!));
  return { worst, c };
}

for (const [label, loaded] of [
  ['best', best],
  ['portable', portable],
] as const) {
  describe.skipIf(noNative)(`native gemm (${label} kernel) against a float64 product`, () => {
    const gemm = loaded.provider!;

    it('reports its name, kernel and one thread', () => {
      expect(gemm.name).toBe('native');
      expect(gemm.config).toMatch(label === 'portable' ? /portable/ : /avx2-fma|portable/);
      expect(gemm.threads).toBe(1);
      if (label === 'portable') expect(gemm.isa).toBe('portable');
      else expect(['avx2-fma', 'portable']).toContain(gemm.isa);
      expect(gemm.setThreads(4)).toBe(1);
    });

    for (const [name, g] of cases) {
      it(name, () => {
        const { worst } = check(gemm, g);
        // |error| <= k eps sum|a b| (|a|, |b| < 1), scaled by |alpha|, plus beta C's rounding.
        const scale = Math.max(Math.abs(g.alpha ?? 1), 1);
        expect(worst).toBeLessThan(scale * Math.max(g.k, 1) * 2 ** -22 + 2 ** -22);
      });
    }

    it('beta 0 overwrites C without reading it (NaN and Infinity in C vanish)', () => {
      const a = values(7 * 5, 4);
      const b = values(5 * 18, 5);
      const c = new Float32Array(7 * 18).fill(Number.NaN);
      c[3] = Number.POSITIVE_INFINITY;
      gemm.matmul(a, b, c, 7, 18, 5);
      const want = reference({ m: 7, n: 18, k: 5 }, a, b, new Float32Array(7 * 18));
      for (let i = 0; i < c.length; i++) expect(Math.abs(c[i]! - want[i]!)).toBeLessThan(1e-6);
    });

    it('is deterministic: bit-identical on every call and wherever the operands sit', () => {
      const g: Gemm = { m: 37, n: 53, k: 400, transB: true };
      const first = check(gemm, g).c;
      expect(check(gemm, g).c).toEqual(first);
      // The same operands at other offsets (other alignments) of larger buffers.
      for (const shift of [1, 3, 5]) {
        const a = values(37 * 400, 1);
        const b = values(53 * 400, 2);
        const bigA = new Float32Array(a.length + shift);
        bigA.set(a, shift);
        const bigB = new Float32Array(b.length + 2 * shift);
        bigB.set(b, 2 * shift);
        const c = new Float32Array(37 * 53 + shift);
        gemm.sgemm(bigA, bigB, c, 37, 53, 400, {
          transB: true,
          offsetA: shift,
          offsetB: 2 * shift,
          offsetC: shift,
        });
        expect(c.subarray(shift)).toEqual(first);
      }
    });

    it('rejects operands too short for the sizes and strides, naming the lengths', () => {
      const a = new Float32Array(6);
      const c = new Float32Array(4);
      expect(() => gemm.sgemm(a, a, c, 2, 2, 4)).toThrow(/A needs 8 of 6/);
      expect(() => gemm.sgemm(a, a, c, 2, 2, 3, { lda: 2 })).toThrow(/leading dimensions/);
      expect(() =>
        gemm.sgemm(a, a, c, 1, 2, 3, { batch: 2, strideA: 0, strideB: 0, strideC: 1 }),
      ).toThrow(/overlap/);
    });
  });
}

// Every product through the native gemm (minFlops 0).
registerBackend('cpu-native-all', () =>
  createFastCpuBackend({
    name: 'cpu-native-all',
    gemm: 'native',
    blasMinFlops: 0,
    wasmKernels: wasmKernelsOf(getBackend('cpu')),
  }),
);

describe.skipIf(noNative)('native gemm matmul kernel: strided views against the reference', () => {
  for (const [name, check] of stridedMatmulChecks('cpu-native-all')) {
    it(name, async () => {
      expect(await check()).toBeLessThan(1e-5);
    });
  }
});

describe('native gemm selection', () => {
  const wasmKernels = () => wasmKernelsOf(getBackend('cpu'));

  it.skipIf(noNative)("gemm: 'native' makes it the provider, even where OpenBLAS exists", () => {
    const be = createFastCpuBackend({ gemm: 'native', wasmKernels: wasmKernels() });
    expect(cpuProvider(be)).toBe('native');
    expect(blasProviderOf(be)).toBe(best.provider);
  });

  it.skipIf(!noNative)("gemm: 'native' without the addon throws the reason", () => {
    expect(() => createFastCpuBackend({ gemm: 'native' })).toThrow(
      /gemm: 'native' but the native gemm is unavailable: .*addon/,
    );
  });

  it("blas: 'off' stays on wasm; blas: 'required' with gemm: 'native' is a contradiction", () => {
    expect(cpuProvider(createFastCpuBackend({ blas: 'off', wasmKernels: wasmKernels() }))).toBe(
      'wasm',
    );
    expect(() => createFastCpuBackend({ blas: 'required', gemm: 'native' })).toThrow(
      /contradict.*LRW_TENSOR_BLAS \/ LRW_TENSOR_GEMM/,
    );
  });

  it('rejects unknown gemm modes, naming the accepted ones', () => {
    expect(() => createFastCpuBackend({ gemm: 'fast' as 'auto' })).toThrow(
      /gemm=fast: expected 'auto' \(default\) or 'native'/,
    );
    expect(() => loadNativeGemmProvider({ isa: 'avx512' as 'best' })).toThrow(
      /isa=avx512: expected 'best' or 'portable'/,
    );
  });

  // The built package in a fresh process, as a machine without OpenBLAS sees it: the library
  // names point nowhere, so 'auto' falls back to the native gemm; LRW_TENSOR_GEMM=native
  // forces it; LRW_TENSOR_BLAS=off keeps wasm. Needs dist/ (npm run build).
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  it.skipIf(noNative || !existsSync(dist))(
    'auto: OpenBLAS, else the native gemm (AVX2 + FMA), else wasm (fresh processes, built package)',
    () => {
      const script =
        `const t = await import(${JSON.stringify(dist)});` +
        "const cpu = t.getBackend('cpu');" +
        'const y = t.tensor([1, 2, 3, 4], { shape: [2, 2] }).matmul(t.tensor([5, 6, 7, 8], { shape: [2, 2] }));' +
        'console.log(JSON.stringify({ provider: t.cpuProvider(cpu), rows: t.blasProviderOf(cpu)?.rows?.isa ?? null, y: Array.from(y.dataSync()) }));';
      const run = (env: Record<string, string>) => {
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
          encoding: 'utf8',
          env: { ...process.env, LRW_TENSOR_BLAS: '', LRW_TENSOR_GEMM: '', ...env },
        });
        expect(r.status, r.stderr).toBe(0);
        return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
          provider: string;
          rows: string | null;
          y: number[];
        };
      };
      const noOpenBlas = { LRW_TENSOR_BLAS_LIB: 'libopenblas-absent-for-this-test.so' };
      // auto takes the native gemm where its AVX2 + FMA kernel runs, else the (faster) wasm gemm.
      // The native gemm carries the addon's AVX2 row kernels too (they need no BLAS), unless
      // LRW_TENSOR_NATIVE_ROWS=off; the wasm path has none.
      const avx2 = best.provider?.isa === 'avx2-fma';
      const autoPick = avx2 ? 'native' : 'wasm';
      const rowsIsa = avx2 ? 'avx2-fma' : null;
      expect(run(noOpenBlas)).toEqual({ provider: autoPick, rows: rowsIsa, y: [19, 22, 43, 50] });
      expect(run({ LRW_TENSOR_GEMM: 'native' })).toEqual({
        provider: 'native',
        rows: rowsIsa,
        y: [19, 22, 43, 50],
      });
      expect(run({ LRW_TENSOR_GEMM: 'native', LRW_TENSOR_NATIVE_ROWS: 'off' })).toEqual({
        provider: 'native',
        rows: null,
        y: [19, 22, 43, 50],
      });
      expect(run({ ...noOpenBlas, LRW_TENSOR_BLAS: 'off' }).provider).toBe('wasm');
    },
  );
});

describe.skipIf(noNative)('conformance: cpu with every product on the native gemm', () => {
  for (const c of conformanceChecks('cpu-native-all')) {
    it.skipIf(!!c.skipReason)(c.name, c.run);
  }
});

// The row kernels on the native gemm provider (GELU, the vocabulary head's log-sum-exp and
// softmax gradient, attention's score tiles): a backend on it against the reference backend's
// compositions, values and every gradient. Skipped where the CPU lacks AVX2 + FMA (the native
// gemm's kernel is then 'portable') or LRW_TENSOR_NATIVE_ROWS=off leaves the row kernels out.
const nativeRows = best.provider?.rows;
const rowsExpected =
  best.provider?.isa === 'avx2-fma' && process.env.LRW_TENSOR_NATIVE_ROWS !== 'off';
describe.skipIf(!rowsExpected)('native gemm provider with the AVX2 row kernels', () => {
  it('carries them: GELU against its float64 formula', () => {
    expect(nativeRows?.isa).toBe('avx2-fma');
    const x = new Float32Array([-3, -0.5, 0, 0.5, 3]);
    const y = nativeRows!.gelu(x, new Float32Array(5));
    // gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in float64 here.
    x.forEach((v, i) => {
      const want = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      expect(Math.abs(y[i]! - want)).toBeLessThan(1e-6);
    });
  });

  it('GELU, attention and the vocabulary head match the reference backend', async () => {
    const name = 'cpu-native-gemm-rows';
    registerBackend(name, () =>
      createFastCpuBackend({ name, gemm: 'native', wasmKernels: wasmKernelsOf(getBackend('cpu')) }),
    );
    await loadBackend(name);
    expect(cpuProvider(getBackend(name))).toBe('native');
    expect(blasProviderOf(getBackend(name))?.rows?.isa).toBe('avx2-fma');
    const run = (backend: string) =>
      tidy(() => {
        const x = randn([2, 40, 24], { seed: 21, backend }).requireGrad();
        const w = randn([203, 24], { seed: 22, backend }).requireGrad();
        const h = gelu(x);
        const heads = (t: typeof h) => t.reshape([2, 40, 2, 12]).transpose(1, 2);
        const a = scaledDotProductAttention(heads(h), heads(h.mul(0.5)), heads(x));
        const z = a.transpose(1, 2).reshape([2, 40, 24]);
        const t = tensor(
          Array.from({ length: 80 }, (_, i) => (i * 37) % 203),
          { dtype: 'int32', shape: [2, 40], backend },
        );
        const loss = linearCrossEntropy(z, w, t);
        loss
          .mul(randn([2, 40], { seed: 23, backend }))
          .sum()
          .backward();
        return [loss.dataSync(), x.grad!.dataSync(), w.grad!.dataSync()];
      });
    const want = run('cpu-reference');
    expectEachClose(run(name), want);
  });
});

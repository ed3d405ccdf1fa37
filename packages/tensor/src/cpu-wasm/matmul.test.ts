import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatmulClose, type RefCase, randomArray } from './matmul.test-helpers.js';
import { createWasmKernels, type MatmulOptions, type WasmKernels } from './wasm-kernels.js';

let seed = 1;

function run(mm: WasmKernels, t: RefCase): void {
  const batch = t.batch ?? 1;
  const sA = t.strideA ?? t.m * t.k;
  const sB = t.strideB ?? t.k * t.n;
  const sC = t.strideC ?? t.m * t.n;
  const a = randomArray((batch - 1) * sA + t.m * t.k, seed++);
  const b = randomArray((batch - 1) * sB + t.k * t.n, seed++);
  const c0 = randomArray((batch - 1) * sC + t.m * t.n, seed++);
  const c = c0.slice();
  const options: MatmulOptions = { ...t };
  expect(mm.matmul(a, b, c, t.m, t.n, t.k, options)).toBe(c);
  expectMatmulClose(c, a, b, c0, t);
}

const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [1, 17, 3],
  [3, 1, 5],
  [4, 16, 8],
  [5, 17, 3],
  [17, 65, 130],
  [65, 3, 17],
  [130, 33, 257],
  [7, 1030, 9],
  [33, 20, 600],
];
const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

describe.each(['simd', 'relaxed-simd'] as const)('wasm matmul, single thread (%s)', (isa) => {
  let mm: WasmKernels;
  beforeAll(async () => {
    mm = await createWasmKernels({ threads: 1, relaxedSimd: isa === 'relaxed-simd' });
  });
  afterAll(async () => {
    await mm.close();
  });

  it('reports the instruction set it was asked for', () => {
    expect(mm.instructionSet).toBe(isa);
    expect(mm.threads).toBe(1);
  });

  it.each(SIZES)('matches the float64 reference for M=%i N=%i K=%i, all transposes', (m, n, k) => {
    for (const [transA, transB] of TRANSPOSES) {
      run(mm, { m, n, k, transA, transB });
      run(mm, { m, n, k, transA, transB, accumulate: true });
    }
  });

  // Blocks: KC x MC x NC = 768 x 126 x 2040 with FMA (3 x 12 tile), 512 x 128 x 1024 without
  // (4 x 8 tile); these sizes cross every block boundary of both builds.
  it('covers several cache blocks in every dimension (K > 768, N > 2040, M > 128)', () => {
    run(mm, { m: 197, n: 20, k: 790 });
    run(mm, { m: 197, n: 20, k: 790, transA: true, transB: true, accumulate: true });
    run(mm, { m: 5, n: 2053, k: 530, transB: true });
    run(mm, { m: 7, n: 2053, k: 790, transA: true, accumulate: true });
  });

  it('handles every edge of the register tiles (3 x 12, 4 x 8) and of the 4-wide packing', () => {
    // Rows 1..7 (edge panels of 1..3 rows), columns around 8, 12 and their multiples (edge
    // panels of 1..11 columns, partial 4-column groups of the transposed B packing), depths
    // around 4 (the scalar k tail of both packings), every transpose, with and without
    // accumulation.
    for (const m of [1, 2, 3, 4, 5, 7]) {
      for (const n of [1, 3, 4, 5, 7, 8, 9, 11, 12, 13, 25]) {
        for (const k of [1, 2, 3, 4, 5, 8, 9]) {
          for (const [transA, transB] of TRANSPOSES) {
            run(mm, { m, n, k, transA, transB, accumulate: (m + n + k) % 2 === 0 });
          }
        }
      }
    }
  });

  it('handles the tile edges in batched products with strides', () => {
    for (const [transA, transB] of TRANSPOSES) {
      run(mm, { m: 5, n: 14, k: 6, batch: 3, transA, transB });
      run(mm, {
        m: 4,
        n: 23,
        k: 9,
        batch: 2,
        strideA: 40,
        strideB: 0,
        strideC: 100,
        transA,
        transB,
      });
      run(mm, { m: 8, n: 13, k: 7, batch: 2, strideA: 0, transA, transB, accumulate: true });
    }
  });

  it('runs batched products with default, broadcast and padded strides', () => {
    run(mm, { m: 9, n: 13, k: 7, batch: 3 });
    run(mm, { m: 9, n: 13, k: 7, batch: 3, strideB: 0, transB: true });
    run(mm, { m: 9, n: 13, k: 7, batch: 3, strideA: 0, transA: true, accumulate: true });
    run(mm, { m: 9, n: 13, k: 7, batch: 2, strideA: 70, strideB: 100, strideC: 130 });
  });

  it('writes zeros for K = 0 and leaves C alone when accumulating', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    mm.matmul(new Float32Array(0), new Float32Array(0), c, 2, 2, 0);
    expect([...c]).toEqual([0, 0, 0, 0]);
    c.set([1, 2, 3, 4]);
    mm.matmul(new Float32Array(0), new Float32Array(0), c, 2, 2, 0, { accumulate: true });
    expect([...c]).toEqual([1, 2, 3, 4]);
  });

  it('computes a small product exactly', () => {
    // [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]
    const c = new Float32Array(4);
    mm.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), c, 2, 2, 2);
    expect([...c]).toEqual([19, 22, 43, 50]);
    mm.matmul(new Float32Array([1, 3, 2, 4]), new Float32Array([5, 7, 6, 8]), c, 2, 2, 2, {
      transA: true,
      transB: true,
    });
    expect([...c]).toEqual([19, 22, 43, 50]);
  });

  it('uses heap-allocated operands in place', () => {
    const a = mm.heap.alloc(6);
    const b = mm.heap.alloc(6);
    const c = mm.heap.alloc(4);
    a.set([1, 2, 3, 4, 5, 6]); // [2,3]
    b.set([1, 0, 0, 1, 1, 1]); // [3,2]
    mm.matmul(a, b, c, 2, 2, 3);
    expect([...c]).toEqual([4, 5, 10, 11]);
    expect(mm.heap.contains(c)).toBe(true);
    mm.heap.free(a);
    mm.heap.free(b);
    mm.heap.free(c);
  });

  it('rejects bad sizes with messages naming the value', () => {
    const x = new Float32Array(4);
    expect(() => mm.matmul(x, x, x, 2, 2, 3)).toThrow(/a has 4 elements .* need 6/);
    expect(() => mm.matmul(x, x, x, 2.5, 2, 2)).toThrow(/m = 2.5 must be an integer/);
    expect(() => mm.matmul(x, x, x, 1, 1, 1, { batch: 0 })).toThrow(/batch = 0/);
    expect(() => mm.matmul(x, x, x, 2, 2, 1, { batch: 2, strideC: 1 })).toThrow(/strideC = 1/);
  });
});

describe('wasm matmul on a private (non-shared) memory', () => {
  it('computes the same products, copying operands, and refuses heap views', async () => {
    const mm = await createWasmKernels({ sharedMemory: false, relaxedSimd: false });
    try {
      expect(mm.threads).toBe(1);
      expect(mm.heap.shared).toBe(false);
      // Large enough to grow the private memory, which replaces its ArrayBuffer.
      const before = mm.heap.byteLength;
      run(mm, { m: 1000, n: 40, k: 700, transB: true });
      expect(mm.heap.byteLength).toBeGreaterThan(before);
      run(mm, { m: 17, n: 65, k: 130, transA: true, accumulate: true });
      expect(() => mm.heap.alloc(4)).toThrow(/needs a shared memory/);
    } finally {
      await mm.close();
    }
  });

  it('rejects threads without shared memory', async () => {
    await expect(createWasmKernels({ sharedMemory: false, threads: 2 })).rejects.toThrow(
      /threads = 2 needs shared memory/,
    );
  });
});

describe('createWasmKernels options', () => {
  it('rejects a memory cap beyond the wasm32 limit', async () => {
    await expect(createWasmKernels({ threads: 1, maximumMemoryBytes: 2 ** 33 })).rejects.toThrow(
      /wasm32 addresses 4 GiB/,
    );
  });

  it('rejects a non-integer thread count', async () => {
    await expect(createWasmKernels({ threads: 0 })).rejects.toThrow(/threads = 0/);
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKernel, GEMM_MR, GEMM_NR } from './kernels.js';
import { expectMatmulClose, randomArray } from './matmul.test-helpers.js';
import { wasm } from './wasm-api.js';
import {
  createWasmKernels,
  type MatmulOptions,
  planGemm,
  type WasmKernels,
} from './wasm-kernels.js';
import { type GemmCall, GemmWorkerPool, type LocalGemm } from './worker-pool.js';

describe('wasm matmul on the worker pool', () => {
  let single: WasmKernels;
  let pooled: WasmKernels;
  let eager: WasmKernels;
  beforeAll(async () => {
    // Plain SIMD on both sides: the same kernel on the same rows gives bit-identical output.
    single = await createWasmKernels({ threads: 1, relaxedSimd: false });
    pooled = await createWasmKernels({ threads: 2, relaxedSimd: false });
    // Threshold 0 splits even tiny products, exercising ragged and empty row shares.
    eager = await createWasmKernels({ threads: 3, relaxedSimd: false, parallelThresholdFlops: 0 });
  });
  afterAll(async () => {
    await Promise.all([single.close(), pooled.close(), eager.close()]);
  });

  const cases: [number, number, number, MatmulOptions][] = [
    [256, 96, 64, {}],
    [130, 257, 40, { transA: true }],
    [67, 130, 65, { transB: true, accumulate: true }],
    [40, 33, 300, { transA: true, transB: true }],
    [17, 24, 31, { batch: 5 }],
    [5, 9, 4, { batch: 7, strideB: 0, accumulate: true }],
    [1, 7, 3, {}],
    [3, 1000, 20, { transB: true }],
    [6, 300, 9, { batch: 3, strideA: 0, accumulate: true }],
    [2, 3, 1, { batch: 3 }],
  ];

  it.each(cases)('M=%i N=%i K=%i %o: identical to one thread', (m, n, k, options) => {
    const batch = options.batch ?? 1;
    const a = randomArray(batch * m * k, m + 1);
    const b = randomArray(batch * k * n, n + 2);
    const c0 = randomArray(batch * m * n, k + 3);
    const want = single.matmul(a, b, c0.slice(), m, n, k, options);
    for (const mm of [pooled, eager]) {
      const got = mm.matmul(a, b, c0.slice(), m, n, k, options);
      expect(got).toEqual(want);
    }
    expectMatmulClose(want, a, b, c0, { m, n, k, ...options });
  });

  it('reports its thread count', () => {
    expect(pooled.threads).toBe(2);
    expect(eager.threads).toBe(3);
  });
});

describe('planGemm', () => {
  it('splits wide outputs by columns, narrow ones by rows, tiny ones not at all', () => {
    // Vocabulary head: 8 column chunks of whole 12-column tiles, all rows each.
    expect(planGemm(1024, 50304, 2)).toEqual({
      rows: 1024,
      cols: 50304,
      chunkRows: 1024,
      chunkCols: 6288,
    });
    // Batched attention scores with N = 64: too narrow for 4 column chunks -> row chunks.
    expect(planGemm(32 * 128, 64, 2)).toEqual({
      rows: 4096,
      cols: 64,
      chunkRows: 513,
      chunkCols: 64,
    });
    // Few rows but some width: 2 column chunks (48 = 4 tiles of 12 columns, then 16).
    expect(planGemm(8, 64, 2)).toEqual({ rows: 8, cols: 64, chunkRows: 8, chunkCols: 48 });
    expect(planGemm(12, 32, 2)).toBeUndefined();
    for (const [rows, n, t] of [
      [1000, 3, 2],
      [7, 1001, 3],
      [4096, 4096, 16],
    ] as const) {
      const plan = planGemm(rows, n, t)!;
      expect(plan.chunkCols % GEMM_NR === 0 || plan.chunkCols === n).toBe(true);
      expect(plan.chunkRows % GEMM_MR === 0 || plan.chunkRows === rows).toBe(true);
      expect(Math.ceil(rows / plan.chunkRows) * Math.ceil(n / plan.chunkCols)).toBeGreaterThan(1);
    }
  });
});

describe('GemmWorkerPool lifecycle', () => {
  it('shuts down cleanly: close() resolves once every worker has exited, twice is fine', async () => {
    const mm = await createWasmKernels({ threads: 2, relaxedSimd: false });
    const close = mm.close();
    await expect(close).resolves.toBeUndefined();
    await expect(mm.close()).resolves.toBeUndefined();
    expect(() =>
      mm.matmul(new Float32Array(1), new Float32Array(1), new Float32Array(1), 1, 1, 1),
    ).toThrow(/after close/);
  });

  it('reports a worker trap as an error instead of hanging, then keeps serving', async () => {
    // Room for the operands below 64 KiB and one gemm scratch block (the kernel's own size) above.
    const module = await compileKernel('simdShared');
    const probe = new wasm.Memory({ initial: 1, maximum: 1, shared: true });
    const scratchBytes = (
      new wasm.Instance(module, { env: { memory: probe } }).exports as {
        gemmScratchBytes(): number;
      }
    ).gemmScratchBytes();
    const pages = 1 + Math.ceil(scratchBytes / 65536);
    const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
    const pool = await GemmWorkerPool.create(module, memory, [65536]);
    const calls: [number, number][] = [];
    const nap = new Int32Array(new SharedArrayBuffer(4));
    // The caller's share naps in its first chunk, longer on every retry (5 ms up to 2 s), to
    // leave chunks for the worker to claim even when a loaded machine schedules it late.
    let napMs = 5;
    let firstOfRun = true;
    const local: LocalGemm = (_call, r0, r1) => {
      calls.push([r0, r1]);
      if (firstOfRun) Atomics.wait(nap, 0, 0, napMs);
      firstOfRun = false;
    };
    try {
      // Pointers beyond the memory make the kernel trap inside the worker; the local share
      // records its rows without computing, so only the worker can fail.
      const beyond = pages * 65536 + (1 << 20);
      const bad: GemmCall = [beyond, beyond, beyond, 64, 8, 8, 0, 1, 0, 0, 0];
      let threw = false;
      // On a busy machine the caller may claim every chunk first: retry until the worker ran one.
      for (let i = 0; i < 12 && !threw; i++) {
        firstOfRun = true;
        napMs = Math.min(2000, 5 * 2 ** i);
        try {
          pool.run(bad, { rows: 64, cols: 8, chunkRows: 4, chunkCols: 8 }, local);
        } catch (error) {
          expect(String(error)).toMatch(/trapped in a worker/);
          threw = true;
        }
      }
      expect(threw).toBe(true);
      // Then a valid product of 8 rows in 2 chunks, the caller's first chunk napping long
      // enough for the worker to take the other: the worker computes its rows correctly.
      calls.length = 0;
      firstOfRun = true;
      napMs = 200;
      const f32 = new Float32Array(memory.buffer);
      const [m, n, k] = [8, 4, 4];
      for (let i = 0; i < m * k; i++) f32[i] = (i % 7) - 3; // A at byte 0
      for (let i = 0; i < k * n; i++) f32[256 + i] = (i % 5) - 2; // B at byte 1024
      f32.fill(Number.NaN, 512, 512 + m * n); // C at byte 2048
      const good: GemmCall = [0, 1024, 2048, m, n, k, 0, 1, 0, 0, 0];
      pool.run(good, { rows: m, cols: n, chunkRows: 4, chunkCols: n }, local);
      expect(calls.length).toBeLessThanOrEqual(2);
      const workerRows = [0, 4].filter((r0) => !calls.some(([c0]) => c0 === r0));
      for (const r0 of workerRows) {
        for (let i = r0; i < r0 + 4; i++) {
          for (let j = 0; j < n; j++) {
            let want = 0;
            for (let p = 0; p < k; p++) want += f32[i * k + p]! * f32[256 + p * n + j]!;
            expect(f32[512 + i * n + j]).toBe(want);
          }
        }
      }
    } finally {
      await pool.close();
    }
    const plan = { rows: 1, cols: 1, chunkRows: 1, chunkCols: 1 };
    expect(() => pool.run([0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0], plan, local)).toThrow(/closed/);
  });
});

// Exit behaviour needs a fresh Node process, which runs the built JavaScript in dist/.
const distIndex = fileURLToPath(new URL('../../dist/cpu-wasm/index.js', import.meta.url));
if (!existsSync(distIndex)) {
  console.warn(`skipping process-exit tests: ${distIndex} missing (run npx tsc -b first)`);
}

describe.skipIf(!existsSync(distIndex))('process exit with a worker pool', () => {
  const runNode = (tail: string) => {
    const script =
      `import { createWasmKernels } from ${JSON.stringify(pathToFileURL(distIndex).href)};\n` +
      'const mm = await createWasmKernels({ threads: 2, parallelThresholdFlops: 0 });\n' +
      'const c = new Float32Array(4);\n' +
      'mm.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([0, 1, 1, 0]), c, 2, 2, 2);\n' +
      `console.log(c.join(','));\n${tail}`;
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
  };

  it('exits on its own when the pool is never closed', () => {
    const result = runNode('');
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('2,1,4,3\n');
  });

  it('exits cleanly after close() awaits the workers', () => {
    const result = runNode("await mm.close();\nconsole.log('closed');");
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('2,1,4,3\nclosed\n');
  });
});

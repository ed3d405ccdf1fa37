import { describe, expect, it } from 'vitest';
import { jsAttentionTiles } from '../cpu/attention-tiles.js';
import { createFastCpuBackend, wasmKernelsOf } from '../cpu-wasm/fast-backend.js';
import {
  getBackend,
  linearCrossEntropy,
  loadBackend,
  randn,
  registerBackend,
  tensor,
  tidy,
} from '../index.js';
import { expectEachClose } from './gemm-reference.test-helpers.js';
import { loadBlasProvider } from './provider.js';

// The addon's AVX2 + FMA row kernels (native/lrw_rows.c) against float64 references written
// here from the formulas (not from either implementation), on lengths around the 8- and
// 16-float vector widths so every tail path runs, with guard elements after each operand to
// catch a masked store that writes past its end. Skipped, with the reason, where the addon is
// not built, no OpenBLAS is installed, or the CPU lacks AVX2 + FMA.
const loaded = loadBlasProvider();
const rows = loaded.provider?.rows;
const skipReason = !loaded.provider
  ? loaded.reason
  : !rows
    ? 'this CPU lacks AVX2 + FMA (or LRW_TENSOR_NATIVE_ROWS=off)'
    : undefined;
if (skipReason) console.log(`skipping the native row kernel tests: ${skipReason}`);

/** Deterministic values in [lo, hi). */
function values(n: number, seed: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return out;
}

const GUARD = 5;
const SENTINEL = 12345.5;
/** `n` floats at the front of a buffer whose last GUARD floats hold SENTINEL. */
function guarded(data: Float32Array): { view: Float32Array; buf: Float32Array } {
  const buf = new Float32Array(data.length + GUARD).fill(SENTINEL);
  buf.set(data);
  return { view: buf.subarray(0, data.length), buf };
}
function expectGuards(buf: Float32Array) {
  for (let i = buf.length - GUARD; i < buf.length; i++) expect(buf[i]).toBe(SENTINEL);
}

const C = 0.7978845608028654;
const A = 0.044715;
const gelu64 = (x: number) => 0.5 * x * (1 + Math.tanh(C * (x + A * x ** 3)));
const geluGrad64 = (x: number) => {
  const t = Math.tanh(C * (x + A * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * A * x * x);
};

const LENGTHS = [1, 7, 8, 9, 15, 16, 17, 31, 513, 1031];

describe.skipIf(!!skipReason)('native row kernels (AVX2 + FMA) against float64', () => {
  it(`reports its instruction set`, () => {
    expect(rows!.isa).toBe('avx2-fma');
  });

  it('logSumExpRows: every row length, rows far apart in scale', () => {
    for (const V of [...LENGTHS, 50304]) {
      const R = 3;
      const L = values(R * V, V, -8, 8);
      for (let v = 0; v < V; v++) L[2 * V + v] = L[2 * V + v]! * 10 + 60; // logits near 60-140
      const out = guarded(new Float32Array(R));
      rows!.logSumExpRows(L, R, V, out.view);
      expectGuards(out.buf);
      for (let r = 0; r < R; r++) {
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, L[r * V + v]!);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(L[r * V + v]! - m);
        const want = m + Math.log(s);
        expect(Math.abs(out.view[r]! - want)).toBeLessThan(2e-6 * Math.max(1, Math.abs(want)));
      }
    }
  });

  it('softmaxGradRows: g exp(L - z) in place, rows with g = 0 zeroed, nothing past the end', () => {
    for (const V of LENGTHS) {
      const R = 3;
      const src = values(R * V, 100 + V, -30, 5);
      const L = guarded(src);
      const z = new Float32Array([2.5, 0, -1]);
      const g = new Float32Array([0.75, 0, -2]);
      rows!.softmaxGradRows(L.view, R, V, z, g);
      expectGuards(L.buf);
      for (let r = 0; r < R; r++) {
        for (let v = 0; v < V; v++) {
          // The float32 difference (as the kernel forms it), then exp and the product in float64.
          const want = g[r]! * Math.exp(Math.fround(src[r * V + v]! - z[r]!));
          const got = L.view[r * V + v]!;
          if (g[r] === 0) expect(got).toBe(0);
          else expect(Math.abs(got - want)).toBeLessThanOrEqual(4e-7 * Math.abs(want) + 1e-37);
        }
      }
    }
  });

  it('gelu and geluBackward: the tanh form and its derivative, saturated tails included', () => {
    for (const n of LENGTHS) {
      const x = values(n, 7 + n, -6, 6);
      if (n > 2) {
        x[0] = -30; // gelu -> -0, gelu' -> 0 (exp clamps)
        x[1] = 30; // gelu -> x, gelu' -> 1
      }
      const gr = values(n, 9 + n, -2, 2);
      const y = guarded(new Float32Array(n));
      const dx = guarded(new Float32Array(n));
      rows!.gelu(x, y.view);
      rows!.geluBackward(x, gr, dx.view);
      expectGuards(y.buf);
      expectGuards(dx.buf);
      for (let i = 0; i < n; i++) {
        const xi = x[i]!;
        expect(Math.abs(y.view[i]! - gelu64(xi))).toBeLessThanOrEqual(
          3e-6 * Math.abs(gelu64(xi)) + 1e-7,
        );
        const want = gr[i]! * geluGrad64(xi);
        expect(Math.abs(dx.view[i]! - want)).toBeLessThanOrEqual(3e-6 * Math.abs(gr[i]!) + 1e-7);
        // And the derivative against a central difference of the float64 function.
        const h = 1e-4;
        const fd = (gelu64(xi + h) - gelu64(xi - h)) / (2 * h);
        expect(Math.abs(geluGrad64(xi) - fd)).toBeLessThan(1e-6);
      }
    }
  });

  // Against the TypeScript tiles (Math.exp in float64 per element): partial vector tails,
  // causal diagonals above, inside and below the tile, rows seen before (finite m) and not.
  it('attention tiles: softmax step, probabilities and score gradient', () => {
    const close = (got: Float32Array, want: Float32Array, what: string) => {
      for (let i = 0; i < want.length; i++) {
        if (got[i] === want[i]) continue; // infinities (m of a row not seen yet)
        const tol = 1e-6 * Math.abs(want[i]!) + 1e-7;
        if (!(Math.abs(got[i]! - want[i]!) <= tol)) {
          throw new Error(`${what}[${i}]: ${got[i]} against ${want[i]}`);
        }
      }
    };
    let seed = 1;
    for (const rowsN of [1, 5, 64]) {
      for (const cols of [1, 7, 8, 9, 17, 64]) {
        for (const [causal, diag] of [
          [false, 0],
          [true, 0],
          [true, -3],
          [true, 6],
          [true, -rowsN - 2],
        ] as const) {
          const what = `${rowsN}x${cols} causal=${causal} diag=${diag}`;
          const raw = values(rowsN * cols, seed++, -4, 4);
          const m0 = values(rowsN, seed++, -1, 1).map((v, i) => (i % 2 ? -Infinity : v));
          const l0 = values(rowsN, seed++, 0.5, 2).map((v, i) => (i % 2 ? 0 : v));
          const run = (k: typeof jsAttentionTiles) => {
            const buf = guarded(raw);
            const [m, l, alpha] = [m0.slice(), l0.slice(), new Float32Array(rowsN)];
            k.attentionSoftmaxTile({
              s: buf.view,
              rows: rowsN,
              cols,
              scale: 0.3,
              causal,
              diag,
              m,
              l,
              alpha,
            });
            expectGuards(buf.buf);
            const prob = guarded(raw);
            k.attentionProbTile({
              s: prob.view,
              rows: rowsN,
              cols,
              scale: 0.3,
              causal,
              diag,
              lse: l0,
            });
            expectGuards(prob.buf);
            const ds = guarded(values(rowsN * cols, 99, -1, 1));
            k.attentionScoreGradTile(
              prob.view,
              ds.view,
              rowsN,
              cols,
              0.3,
              m0.map((v) => (v === -Infinity ? 0.5 : v)),
            );
            expectGuards(ds.buf);
            return [buf.view, m, l, alpha, prob.view, ds.view] as const;
          };
          const want = run(jsAttentionTiles);
          const got = run(rows!);
          ['softmax S', 'm', 'l', 'alpha', 'prob S', 'dS'].forEach((name, i) => {
            close(got[i]!, want[i]!, `${what} ${name}`);
          });
        }
      }
    }
  });

  // A NaN logit or activation (a diverged step) must come out NaN, as in the wasm kernels, so
  // the trainer's step guard sees a non-finite loss rather than a finite one.
  it('propagates NaN and infinities as the wasm kernels do', () => {
    const wasm = wasmKernelsOf(getBackend('cpu'))!;
    for (const V of [5, 8, 19]) {
      const L = values(3 * V, 3, -2, 2);
      L[1] = Number.NaN; // row 0
      L[V + V - 1] = Number.POSITIVE_INFINITY; // row 1, last (tail) element
      const z = new Float32Array([0.5, 0.5, Number.NaN]);
      const g = new Float32Array([1, 1, 1]);
      const [native, viaWasm] = [rows!, wasm].map((k) => {
        const lse = k.logSumExpRows(L, 3, V, new Float32Array(3));
        expect(Number.isNaN(lse[0])).toBe(true);
        expect(Number.isFinite(lse[2])).toBe(true);
        const sg = k.softmaxGradRows(L.slice(), 3, V, z, g);
        expect(Number.isNaN(sg[1])).toBe(true);
        expect(sg.subarray(2 * V).every(Number.isNaN)).toBe(true);
        return { lse, sg };
      });
      // An infinite logit: log-sum-exp inf - inf = NaN, exp(inf - z) saturating at the clamp
      // (88.3): the same in both.
      expect(native!.lse[1]).toBe(viaWasm!.lse[1]);
      expect(native!.sg[V + V - 1]).toBe(viaWasm!.sg[V + V - 1]);
      const x = values(V, 5, -3, 3);
      x[V - 1] = Number.NaN;
      for (const k of [rows!, wasm]) {
        const y = k.gelu(x, new Float32Array(V));
        const d = k.geluBackward(x, new Float32Array(V).fill(1), new Float32Array(V));
        expect(Number.isNaN(y[V - 1])).toBe(true);
        expect(Number.isNaN(d[V - 1])).toBe(true);
        expect(y.subarray(0, V - 1).every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('rejects short operands with the sizes, never touching memory', () => {
    const L = new Float32Array(10);
    expect(() => rows!.logSumExpRows(L, 3, 4, new Float32Array(3))).toThrow(
      /logits has 10 elements, needs 12/,
    );
    expect(() => rows!.logSumExpRows(L, 2, 5, new Float32Array(1))).toThrow(
      /out has 1 elements, needs 2/,
    );
    expect(() => rows!.softmaxGradRows(L, 2, 5, new Float32Array(2), new Float32Array(1))).toThrow(
      /g has 1 elements, needs 2/,
    );
    expect(() => rows!.logSumExpRows(L, 2, 0, new Float32Array(2))).toThrow(
      /V must be an integer >= 1/,
    );
    expect(() => rows!.gelu(L, new Float32Array(9))).toThrow(/must match/);
    expect(() => rows!.geluBackward(L, L, new Float32Array(9))).toThrow(/must match/);
  });
});

// The fused vocabulary head on a backend with the native rows (OpenBLAS + AVX2) against the
// reference backend's composition, with a vocabulary (203) that leaves every vector tail.
describe.skipIf(!!skipReason)('linearCrossEntropy with the native row kernels', () => {
  // '-keep': forward's [N, V] logits kept for backward (one product each way).
  it.each([
    ['cpu-native-rows', 0],
    ['cpu-native-rows-keep', 2 ** 20],
  ] as const)('values and gradients match the reference backend (%s)', async (name, keep) => {
    registerBackend(name, () =>
      createFastCpuBackend({
        name,
        blas: 'required',
        keepHeadLogitsBytes: keep,
        wasmKernels: wasmKernelsOf(getBackend('cpu')),
      }),
    );
    await loadBackend(name);
    const run = (backend: string) =>
      tidy(() => {
        const x = randn([2, 6, 24], { seed: 11, backend }).requireGrad();
        const w = randn([203, 24], { seed: 12, backend }).requireGrad();
        const t = tensor([1, 202, -100, 0, 50, 7, 8, 9, 100, 200, 201, 3], {
          dtype: 'int32',
          shape: [2, 6],
          backend,
        });
        const loss = linearCrossEntropy(x, w, t);
        loss
          .mul(randn([2, 6], { seed: 13, backend }))
          .sum()
          .backward();
        return [loss.dataSync(), x.grad!.dataSync(), w.grad!.dataSync()];
      });
    const want = run('cpu-reference');
    expectEachClose(run(name), want);
  });
});

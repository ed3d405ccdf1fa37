import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adamwGolden } from '../ops/adamw.test-helpers.js';
import { randomArray } from './matmul.test-helpers.js';
import { createWasmKernels, type WasmKernels } from './wasm-kernels.js';

describe('wasm elementwise kernels', () => {
  let wk: WasmKernels;
  beforeAll(async () => {
    wk = await createWasmKernels({ threads: 1 });
  });
  afterAll(async () => {
    await wk.close();
  });

  it.skipIf(!adamwGolden)('adamw reproduces three torch.optim.AdamW steps', () => {
    const golden = adamwGolden!;
    const p = Float32Array.from(golden.p0);
    const m = new Float32Array(p.length);
    const v = new Float32Array(p.length);
    golden.grads.forEach((g, i) => {
      wk.adamw(p, Float32Array.from(g), m, v, { ...golden.config, step: i + 1 });
    });
    // float32 arithmetic on both sides, in a different order: a few ulps of |p| ~ 0.1.
    const maxDiff = (got: Float32Array, want: number[]) =>
      Math.max(...Array.from(got, (x, i) => Math.abs(x - want[i]!)));
    expect(maxDiff(p, golden.p)).toBeLessThan(2e-7);
    expect(maxDiff(m, golden.m)).toBeLessThan(1e-8);
    expect(maxDiff(v, golden.v)).toBeLessThan(1e-9);
  });

  it('adamw matches a float64 evaluation of the formula on a long, odd-length vector', () => {
    const n = 1027;
    const hp = { lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 5 };
    const p = randomArray(n, 1);
    const g = randomArray(n, 2);
    const m = randomArray(n, 3).map((x) => x * 0.1);
    const v = randomArray(n, 4).map((x) => x * x * 0.01);
    const p0 = p.slice();
    const m0 = m.slice();
    const v0 = v.slice();
    wk.adamw(p, g, m, v, hp);
    for (let i = 0; i < n; i++) {
      const mi = hp.beta1 * m0[i]! + (1 - hp.beta1) * g[i]!;
      const vi = hp.beta2 * v0[i]! + (1 - hp.beta2) * g[i]! * g[i]!;
      const denom = Math.sqrt(vi) / Math.sqrt(1 - hp.beta2 ** hp.step) + hp.eps;
      const pi =
        p0[i]! * (1 - hp.lr * hp.weightDecay) - (hp.lr / (1 - hp.beta1 ** hp.step)) * (mi / denom);
      // Bounds scale with the magnitudes of the summed terms: float32 rounds the hyper-parameters
      // (0.9 -> 0.899999976) and each product, so cancellation can leave a larger relative error.
      const mTerms = hp.beta1 * Math.abs(m0[i]!) + (1 - hp.beta1) * Math.abs(g[i]!);
      const vTerms = hp.beta2 * v0[i]! + (1 - hp.beta2) * g[i]! * g[i]!;
      const update = (hp.lr / (1 - hp.beta1 ** hp.step)) * Math.abs(mi / denom);
      expect(Math.abs(m[i]! - mi)).toBeLessThanOrEqual(4e-7 * mTerms + 1e-30);
      expect(Math.abs(v[i]! - vi)).toBeLessThanOrEqual(4e-7 * vTerms + 1e-30);
      expect(Math.abs(p[i]! - pi)).toBeLessThanOrEqual(4e-7 * Math.abs(p0[i]!) + 2e-6 * update);
    }
  });

  it('axpy and sumOfSquares match float64 sums, in place on heap arrays too', () => {
    for (const n of [0, 1, 3, 4, 17, 1000]) {
      const y = randomArray(n, n + 10);
      const x = randomArray(n, n + 11);
      const want = Array.from(y, (yi, i) => Math.fround(yi + Math.fround(0.5 * x[i]!)));
      wk.axpy(y, x, 0.5);
      // alpha = 0.5 scales exactly, so each element is one float32 rounding of the sum.
      expect(Array.from(y)).toEqual(want);
      let ss = 0;
      for (const xi of x) ss += xi * xi;
      expect(wk.sumOfSquares(x)).toBeCloseTo(ss, 10);
    }
    const h = wk.heap.alloc(5);
    h.set([1, 2, 3, 4, 5]);
    expect(wk.sumOfSquares(h)).toBe(55);
    wk.axpy(h, Float32Array.from([1, 1, 1, 1, 1]), -1);
    expect(Array.from(h)).toEqual([0, 1, 2, 3, 4]);
    wk.heap.free(h);
  });

  it('names mismatched lengths and bad hyper-parameters', () => {
    const a = new Float32Array(3);
    const b = new Float32Array(4);
    expect(() => wk.axpy(a, b, 1)).toThrow(/axpy: x has 4 elements but y has 3/);
    const hp = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 0 };
    expect(() => wk.adamw(a, a, a, a, hp)).toThrow(/step = 0/);
    expect(() => wk.adamw(a, a, a, a, { ...hp, step: 1, beta2: 1 })).toThrow(/beta2 = 1/);
  });

  // The vector exp of assembly/softmax.ts against float64 Math.exp, on rows whose lengths are
  // not multiples of the 8-float vector step and whose logits span [-60, 60] (and -1e4: exp
  // underflows to ~0 exactly as float64's does relative to the row sum).
  const logitRows = (rows: number, V: number, spread: number): Float32Array => {
    const x = randomArray(rows * V, 5);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! * spread;
    x[3] = -1e4;
    return x;
  };

  it('logSumExpRows matches a float64 log-sum-exp (heap and plain arrays)', () => {
    for (const [rows, V, spread] of [
      [3, 50_304, 8],
      [4, 13, 60],
      [2, 1, 1],
      [5, 1029, 0.1],
    ] as const) {
      const x = logitRows(rows, V, spread);
      const out = new Float32Array(rows);
      wk.logSumExpRows(x, rows, V, out);
      for (let r = 0; r < rows; r++) {
        let max = Number.NEGATIVE_INFINITY;
        for (let v = 0; v < V; v++) max = Math.max(max, x[r * V + v]!);
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(x[r * V + v]! - max);
        const want = max + Math.log(sum);
        expect(Math.abs(out[r]! - want)).toBeLessThan(4e-7 * Math.max(1, Math.abs(want)));
      }
    }
    const h = wk.heap.alloc(2 * 9);
    h.set(logitRows(2, 9, 3));
    const o = wk.heap.alloc(2);
    wk.logSumExpRows(h, 2, 9, o);
    const plain = new Float32Array(2);
    wk.logSumExpRows(h.slice(), 2, 9, plain);
    expect(Array.from(o)).toEqual(Array.from(plain));
    wk.heap.free(h);
    wk.heap.free(o);
  });

  it('softmaxGradRows writes g exp(x - z) in place, zero rows where g = 0', () => {
    const rows = 3;
    const V = 1037;
    const x = logitRows(rows, V, 20);
    const z = Float32Array.from([25, 30, 0]);
    const g = Float32Array.from([0.5, -2, 0]);
    const want = Array.from(x, (xi, i) => {
      const r = Math.floor(i / V);
      return g[r]! * Math.exp(xi - z[r]!);
    });
    const arg = Array.from(x, (xi, i) => Math.abs(xi - z[Math.floor(i / V)]!));
    wk.softmaxGradRows(x, rows, V, z, g);
    for (let i = 0; i < x.length; i++) {
      // float32 x - z rounds by |x - z| 2^-24, which exp turns into that relative error.
      const tol = (arg[i]! * 2 ** -24 + 3e-7) * Math.abs(want[i]!) + 1e-37;
      expect(Math.abs(x[i]! - want[i]!)).toBeLessThanOrEqual(tol);
    }
    expect(x.subarray(2 * V).every((v) => v === 0)).toBe(true);
  });

  it('row kernels name bad sizes', () => {
    expect(() => wk.logSumExpRows(new Float32Array(5), 2, 3, new Float32Array(2))).toThrow(
      /logits has 5 elements but rows \* V = 2 \* 3 = 6/,
    );
    expect(() =>
      wk.softmaxGradRows(new Float32Array(6), 2, 3, new Float32Array(1), new Float32Array(2)),
    ).toThrow(/per-row array has 1 elements but rows = 2/);
  });

  it('gelu and geluBackward match a float64 evaluation, to the last bits in the tails', () => {
    const n = 1003;
    const x = randomArray(n, 9).map((v) => v * 12); // [-12, 12): both saturated tails
    x[0] = 0;
    x[1] = -1e-3;
    x[2] = 40;
    x[3] = -40;
    const y = new Float32Array(n);
    wk.gelu(x, y);
    const g = randomArray(n, 10);
    const dx = new Float32Array(n);
    wk.geluBackward(x, g, dx);
    const c = Math.sqrt(2 / Math.PI);
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      // float64 truth in the same cancellation-free form (0.5 (1 + tanh) rounds to 0 in
      // float64 itself for x < -9).
      const twoU = 2 * c * (v + 0.044715 * v ** 3);
      const e = Math.exp(-twoU);
      // float32 rounding of 2u (a few |2u| 2^-24) becomes that relative error of exp(-2u), which
      // dominates where y ~ x exp(-2u) (large negative x).
      const rel = Math.abs(twoU) * 2 ** -21;
      const s = 1 / (1 + e);
      const want = v * s;
      const es = e === Number.POSITIVE_INFINITY ? 1 : e * s; // 1 - s
      const d = s + 2 * v * s * es * c * (1 + 3 * 0.044715 * v * v);
      // Past the clamp of exp (x < -9.5) the results are ~1e-37..1e-34 instead of ~0: absolute 1e-33.
      expect(Math.abs(y[i]! - want)).toBeLessThanOrEqual((6e-7 + rel) * Math.abs(want) + 1e-33);
      expect(Math.abs(dx[i]! - g[i]! * d)).toBeLessThanOrEqual(
        (2e-6 + rel) * Math.abs(g[i]! * d) + 1e-33,
      );
    }
    expect(y[2]).toBe(40);
    expect(() => wk.gelu(x, new Float32Array(3))).toThrow(/gelu: y has 3 elements/);
  });

  it('layerNorm and layerNormBackward match a float64 evaluation (odd widths, optional w/b, heap arrays)', () => {
    // Float64 reference of the forward and of the gradients (biased variance).
    const ref = (
      x: Float32Array,
      w: Float32Array | undefined,
      b: Float32Array | undefined,
      g: Float32Array,
      rows: number,
      C: number,
      eps: number,
    ) => {
      const y = new Float64Array(rows * C);
      const dx = new Float64Array(rows * C);
      const dw = new Float64Array(C);
      const db = new Float64Array(C);
      for (let r = 0; r < rows; r++) {
        const o = r * C;
        let mean = 0;
        for (let j = 0; j < C; j++) mean += x[o + j]!;
        mean /= C;
        let v = 0;
        for (let j = 0; j < C; j++) v += (x[o + j]! - mean) ** 2;
        const rstd = 1 / Math.sqrt(v / C + eps);
        let mD = 0;
        let mDX = 0;
        for (let j = 0; j < C; j++) {
          const xh = (x[o + j]! - mean) * rstd;
          y[o + j] = xh * (w ? w[j]! : 1) + (b ? b[j]! : 0);
          const d = g[o + j]! * (w ? w[j]! : 1);
          mD += d / C;
          mDX += (d * xh) / C;
          dw[j] += g[o + j]! * xh;
          db[j] += g[o + j]!;
        }
        for (let j = 0; j < C; j++) {
          const xh = (x[o + j]! - mean) * rstd;
          dx[o + j] = rstd * (g[o + j]! * (w ? w[j]! : 1) - mD - xh * mDX);
        }
      }
      return { y, dx, dw, db };
    };
    const close = (got: Float32Array, want: Float64Array, tol: number) => {
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
      }
      expect(worst).toBeLessThan(tol);
    };
    let seed = 40;
    for (const [rows, C] of [
      [1, 1],
      [3, 13],
      [5, 128],
      [7, 37],
      [64, 384],
    ] as const) {
      for (const [withW, withB] of [
        [true, true],
        [false, false],
        [true, false],
      ] as const) {
        const x = randomArray(rows * C, seed++).map((v) => 3 * v + 1);
        const w = withW ? randomArray(C, seed++).map((v) => 1 + v) : undefined;
        const b = withB ? randomArray(C, seed++) : undefined;
        const g = randomArray(rows * C, seed++);
        const want = ref(x, w, b, g, rows, C, 1e-5);
        const y = new Float32Array(rows * C);
        const stats = new Float32Array(2 * rows);
        wk.layerNorm({ x, w, b, y, stats, rows, C, eps: 1e-5 });
        close(y, want.y, 2e-6);
        const dx = new Float32Array(rows * C);
        const dw = w ? new Float32Array(C).fill(7) : undefined; // overwritten, not added to
        const db = b ? new Float32Array(C) : undefined;
        wk.layerNormBackward({ x, w, g, stats, rows, C, dx, dw, db });
        close(dx, want.dx, 1e-5);
        if (dw) close(dw, want.dw, 1e-5 * rows);
        if (db) close(db, want.db, 1e-6 * rows);
        // Only dw: dx stays untouched.
        const dw2 = new Float32Array(C);
        wk.layerNormBackward({ x, w, g, stats, rows, C, dx: undefined, dw: dw2, db: undefined });
        close(dw2, want.dw, 1e-5 * rows);
      }
    }
    // Operands in the kernels' heap are used in place.
    const [rows, C] = [2, 6];
    const x = wk.heap.alloc(rows * C);
    x.set(randomArray(rows * C, 99));
    const y = wk.heap.alloc(rows * C);
    const stats = wk.heap.alloc(2 * rows);
    wk.layerNorm({ x, w: undefined, b: undefined, y, stats, rows, C, eps: 1e-5 });
    close(y, ref(x, undefined, undefined, x, rows, C, 1e-5).y, 2e-6);
    for (const a of [x, y, stats]) wk.heap.free(a);
    expect(() =>
      wk.layerNorm({
        x: new Float32Array(5),
        w: undefined,
        b: undefined,
        y: new Float32Array(6),
        stats: new Float32Array(2),
        rows: 1,
        C: 6,
        eps: 1e-5,
      }),
    ).toThrow(/layerNorm: x has 5 elements but needs rows \* C = 6/);
  });
});

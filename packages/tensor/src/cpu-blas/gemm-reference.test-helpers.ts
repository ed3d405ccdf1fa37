import { expect } from 'vitest';

// The float64 reference gemm (the addressing of the lrw_blas addon's `sgemm`) and deterministic
// operands, shared by the OpenBLAS and native-gemm provider tests.

/** Deterministic values in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export interface Gemm {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  lda?: number;
  ldb?: number;
  ldc?: number;
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
  alpha?: number;
  beta?: number;
}

/** `g`'s transposes and leading dimensions, with the addon's defaults (packed rows). */
export function addressing(g: Gemm): {
  ta: boolean;
  tb: boolean;
  lda: number;
  ldb: number;
  ldc: number;
} {
  const ta = g.transA ?? false;
  const tb = g.transB ?? false;
  return {
    ta,
    tb,
    lda: g.lda ?? (ta ? g.m : g.k),
    ldb: g.ldb ?? (tb ? g.k : g.n),
    ldc: g.ldc ?? g.n,
  };
}

/** float64 naive C = alpha op(A) op(B) + beta C with the same addressing as the addon. */
export function reference(
  g: Gemm,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
): Float64Array {
  const { m, n, k } = g;
  const { ta, tb, lda, ldb, ldc } = addressing(g);
  const out = Float64Array.from(c);
  for (let p = 0; p < (g.batch ?? 1); p++) {
    const oa = (g.offsetA ?? 0) + p * (g.strideA ?? m * k);
    const ob = (g.offsetB ?? 0) + p * (g.strideB ?? k * n);
    const oc = (g.offsetC ?? 0) + p * (g.strideC ?? m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = ta ? a[oa + q * lda + i]! : a[oa + i * lda + q]!;
          const bv = tb ? b[ob + j * ldb + q]! : b[ob + q * ldb + j]!;
          s += av * bv;
        }
        const at = oc + i * ldc + j;
        out[at] = (g.alpha ?? 1) * s + (g.beta ?? 0) * c[at]!;
      }
    }
  }
  return out;
}

/** Each of `got`'s arrays equals `want`'s element by element within `rel` (relative, +1 absolute). */
export function expectEachClose(
  got: readonly ArrayLike<number>[],
  want: readonly ArrayLike<number>[],
  rel = 1e-4,
): void {
  expect(got.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    expect(got[k]!.length).toBe(want[k]!.length);
    for (let i = 0; i < want[k]!.length; i++) {
      expect(Math.abs(got[k]![i]! - want[k]![i]!)).toBeLessThan(rel * (1 + Math.abs(want[k]![i]!)));
    }
  }
}

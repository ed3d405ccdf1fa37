// Float64 reference matmul and seeded data for the wasm kernel tests.
import { expect } from 'vitest';
import type { MatmulOptions } from '../cpu/gemm.js';

/** mulberry32: small deterministic PRNG, values uniform in [-1, 1). */
export function randomArray(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export interface RefCase extends MatmulOptions {
  m: number;
  n: number;
  k: number;
}

/**
 * Checks `got` against a float64 naive product, element by element, with the classic float32
 * bound for a length-k dot product, |err| <= (k + 2) * 2^-24 * sum_p |a_ip b_pj| (Higham,
 * Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5), which holds for any
 * summation order and for FMA. `c0` is C before the call (used when accumulating and for gaps).
 */
export function expectMatmulClose(
  got: Float32Array,
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array,
  t: RefCase,
): void {
  const { m, n, k } = t;
  const batch = t.batch ?? 1;
  const sA = t.strideA ?? m * k;
  const sB = t.strideB ?? k * n;
  const sC = t.strideC ?? m * n;
  const unit = 2 ** -24;
  const expected = Float64Array.from(c0);
  const bound = new Float64Array(c0.length);
  for (let q = 0; q < batch; q++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const av = t.transA ? a[q * sA + p * m + i]! : a[q * sA + i * k + p]!;
          const bv = t.transB ? b[q * sB + j * k + p]! : b[q * sB + p * n + j]!;
          sum += av * bv;
          abs += Math.abs(av * bv);
        }
        const idx = q * sC + i * n + j;
        const prior = t.accumulate ? c0[idx]! : 0;
        expected[idx] = prior + sum;
        bound[idx] = (k + 2) * unit * (abs + Math.abs(prior)) + 1e-30;
      }
    }
  }
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i]! - expected[i]!) / (bound[i]! || 1e-30);
    if (!(excess <= worst)) {
      worst = excess;
      worstAt = i;
    }
  }
  if (worst > 1) {
    expect.fail(
      `matmul ${JSON.stringify(t)}: element ${worstAt} is ${got[worstAt]}, expected ` +
        `${expected[worstAt]} within ${bound[worstAt]}`,
    );
  }
}

import type { Xoshiro128 } from './xoshiro128.js';

/** A uniformly random permutation of 0..n-1 (Fisher-Yates), or the identity when rng is null. */
export function permutation(n: number, rng: Xoshiro128 | null): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  if (rng) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
  }
  return p;
}

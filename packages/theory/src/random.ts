import { Xoshiro128 } from '@lrw/random';

/**
 * The seeded random source of the experiments and the verification: @lrw/random's xoshiro128**
 * (shared with @lrw/data; no @lrw/tensor here, as the architecture asks), plus the draws the
 * problems need. Every run is reproducible from one integer seed.
 */
export class SeededRandom extends Xoshiro128 {
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) {
      throw new TypeError(`SeededRandom: seed must be an integer, got ${seed}`);
    }
    super(seed);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return this.nextFloat();
  }

  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return this.nextInt(n);
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** b distinct indices drawn uniformly from [0, n) (partial Fisher-Yates), in draw order. */
  sampleWithoutReplacement(n: number, b: number): Int32Array {
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < b; i++) {
      const j = i + this.int(n - i);
      const tmp = pool[i];
      pool[i] = pool[j];
      pool[j] = tmp;
    }
    return pool.slice(0, b);
  }
}

import { fmix32 } from './hash-seed.js';

/** The generator's whole state: four unsigned 32-bit integers (fits a JSON checkpoint). */
export type RngState = [number, number, number, number];

/**
 * xoshiro128** (Blackman & Vigna 2018, version 1.1): 128 bits of state, period 2^128 - 1, fast
 * in 32-bit integer arithmetic. A seed is spread over the state by four steps of splitmix32 (the
 * golden-ratio increment, murmur3's finalizer), so seeds 0, 1, 2 give unrelated streams.
 * Checked against the published C code (test/xoshiro128-reference.c).
 *
 * @example
 * const rng = new Xoshiro128(42);
 * rng.nextFloat(); // uniform in [0, 1)
 * const saved = rng.state(); // later: Xoshiro128.fromState(saved) continues the same stream
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator seeded from the low 32 bits of `seed`. */
  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return fmix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // fmix32 is a bijection of distinct inputs, so the four words are never all 0; kept as
    // the algorithm's one forbidden state, for loaded states too.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator that continues from `state` (see `state()`). */
  static fromState(state: RngState): Xoshiro128 {
    const rng = new Xoshiro128(0);
    rng.load(state);
    return rng;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (two draws). */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  load(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((v) => Number.isInteger(v))) {
      throw new TypeError(
        `Xoshiro128.load: state must be four integers as state() returns, got ${JSON.stringify(state)}`,
      );
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v | 0) as RngState;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

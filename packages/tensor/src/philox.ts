/**
 * Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
 * counter-based generator behind every random op. Output i of a call is a pure function of
 * (seed, offset, i), so every backend produces the same stream and any slice can be computed
 * independently, in parallel, without state.
 *
 * Streams (the contract every backend's `random` kernel follows):
 * - uniform: element i uses counter (offset + floor(i / 4), 0, 0, 0), word i % 4;
 *   u = (word >>> 8) * 2^-24 in [0, 1), then low + (high - low) * u.
 * - normal: element i uses counter (offset + i, 0, 0, 0); u1 = ((w0 >>> 8) + 1) * 2^-24 in
 *   (0, 1], u2 = (w1 >>> 8) * 2^-24; z = sqrt(-2 ln u1) * cos(2 pi u2) (Box-Muller), then
 *   mean + std * z.
 * The key is (seed mod 2^32, floor(seed / 2^32) mod 2^32).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the unsigned 64-bit product a * b (Hacker's Delight, mulhu). */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const w1 = (t & 0xffff) + a0 * b1;
  return (a1 * b1 + Math.floor(t / 65536) + Math.floor(w1 / 65536)) >>> 0;
}

/** One Philox 4x32-10 block: writes four uint32 words into `out`. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** Splits a seed (a non-negative safe integer) into the two key words. */
export function seedKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  }
  return [(seed % 4294967296) >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

const TWO_NEG_24 = 1 / 16777216;

export type RandomDistribution = 'uniform' | 'normal';

/** Attributes of the `random` kernel. */
export interface RandomAttrs {
  seed: number;
  /** First counter of the stream (generators advance it; see `Generator`). */
  offset: number;
  dist: RandomDistribution;
  /** uniform: low, high; normal: mean, std. */
  a: number;
  b: number;
}

/** Fills `out[0..n)` with the stream defined above. The reference every backend matches. */
export function philoxFill(
  out: { [i: number]: number; length: number },
  n: number,
  attrs: RandomAttrs,
): void {
  const [k0, k1] = seedKey(attrs.seed);
  const words = new Uint32Array(4);
  if (attrs.dist === 'uniform') {
    const span = attrs.b - attrs.a;
    for (let base = 0; base < n; base += 4) {
      philox4x32(attrs.offset + base / 4, 0, 0, 0, k0, k1, words);
      const m = Math.min(4, n - base);
      for (let j = 0; j < m; j++) out[base + j] = attrs.a + span * ((words[j] >>> 8) * TWO_NEG_24);
    }
  } else {
    for (let i = 0; i < n; i++) {
      philox4x32(attrs.offset + i, 0, 0, 0, k0, k1, words);
      const u1 = ((words[0] >>> 8) + 1) * TWO_NEG_24;
      const u2 = (words[1] >>> 8) * TWO_NEG_24;
      out[i] = attrs.a + attrs.b * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
  }
}

/** Counters a stream of `n` elements consumes (how far a generator advances). */
export function philoxCounters(dist: RandomDistribution, n: number): number {
  return dist === 'uniform' ? Math.ceil(n / 4) : n;
}

/**
 * A seeded source of (seed, offset) pairs for random ops. Its whole state is two numbers, so it
 * checkpoints with `state()` / `load(state)`.
 */
export class Generator {
  private offset = 0;
  constructor(private seed = 0) {
    seedKey(seed);
  }

  /** Reserves the counters of a stream of `n` elements and returns where it starts. */
  next(dist: RandomDistribution, n: number): { seed: number; offset: number } {
    const start = this.offset;
    this.offset += philoxCounters(dist, n);
    return { seed: this.seed, offset: start };
  }

  state(): { seed: number; offset: number } {
    return { seed: this.seed, offset: this.offset };
  }

  load(state: { seed: number; offset: number }): void {
    seedKey(state.seed);
    if (!Number.isSafeInteger(state.offset) || state.offset < 0) {
      throw new RangeError(
        `Generator.load: offset must be a non-negative integer, got ${state.offset}`,
      );
    }
    this.seed = state.seed;
    this.offset = state.offset;
  }
}

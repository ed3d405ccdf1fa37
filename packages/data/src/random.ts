// Seeded randomness for shuffles and mixtures: xoshiro128** (Blackman & Vigna, 2018), a
// 128-bit-state generator with a state that fits a JSON checkpoint as four integers.
// Streams derive independent generators from (seed, labels...) with hashSeed, so the order
// of one domain's epoch never depends on how many draws another domain made.

/** Serializable generator state: four unsigned 32-bit integers. */
export type RngState = [number, number, number, number];

/** murmur3's 32-bit finalizer: a bijective mix of all bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a seed and labels (strings or integers), stable across platforms. */
export function hashSeed(seed: number, ...labels: (string | number)[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9) ^ Math.floor(seed / 2 ** 32);
  for (const label of labels) {
    if (typeof label === 'number') {
      h = fmix32(h ^ fmix32((label >>> 0) + 0x632be5ab));
      h = fmix32(h ^ Math.floor(label / 2 ** 32));
    } else {
      // FNV-1a over UTF-16 code units, then mixed into the running hash.
      let f = 0x811c9dc5;
      for (let i = 0; i < label.length; i++) f = Math.imul(f ^ label.charCodeAt(i), 0x01000193);
      h = fmix32(h ^ fmix32(f ^ label.length));
    }
  }
  return h >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator seeded from a 32-bit seed through splitmix32 (never the all-zero state). */
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
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.load(state);
    return rng;
  }

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

  /** Uniform in [0, 1) with 53 random bits. */
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
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v | 0) as RngState;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates), or the identity when rng is null. */
export function permutation(n: number, rng: Rng | null): Uint32Array {
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

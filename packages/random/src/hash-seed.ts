/** murmur3's 32-bit finalizer: a bijective mix of all bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit seed derived from a seed and labels (strings or integers), stable across platforms:
 * independent streams for (seed, 'train', domain) and (seed, 'validation'), so the draws of one
 * never depend on how many another made.
 *
 * @example
 * const rng = new Xoshiro128(hashSeed(seed, 'shuffle', epoch));
 */
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

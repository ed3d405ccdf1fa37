import { Xoshiro128 } from '@lrw/random';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';

describe('SeededRandom', () => {
  it("is @lrw/random's generator: same seed, same stream", () => {
    const ours = new SeededRandom(5);
    const base = new Xoshiro128(5);
    for (let i = 0; i < 4; i++) expect(ours.nextUint32()).toBe(base.nextUint32());
    expect(ours.uniform()).toBe(base.nextFloat());
  });

  it('draws what the experiments drew before it moved (seed 5, frozen values)', () => {
    const r = new SeededRandom(5);
    expect([
      r.nextUint32(),
      r.uniform(),
      r.normal(),
      r.normal(),
      r.between(2, 3),
      r.int(10),
    ]).toEqual([
      3616982058, 0.830969740631366, -0.050307730749258824, -1.6249513300817904, 2.2132034216037684,
      0,
    ]);
    expect(() => new SeededRandom(0.5)).toThrow(/seed must be an integer/);
  });
});

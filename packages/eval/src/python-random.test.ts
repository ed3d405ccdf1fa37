import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PythonRandom } from './python-random.js';

interface Case {
  seed: string;
  uint32: number[];
  random: string[];
  randbelow: number[];
  samples: { n: number; k: number; sample: number[] }[];
  getrandbits: { k: number[]; values: number[] };
}
// Outputs of CPython's own `random` module (see fixtures/README.md for the generating script).
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/python-random.json', import.meta.url), 'utf8'),
) as { python: string; cases: Case[] };
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe(`PythonRandom matches CPython ${fixture.python}`, () => {
  for (const c of fixture.cases) {
    const seed = BigInt(c.seed);
    it(`seed ${c.seed}: getrandbits(32) stream`, () => {
      const r = new PythonRandom(seed);
      expect(c.uint32.map(() => r.getrandbits(32))).toEqual(c.uint32);
    });
    it(`seed ${c.seed}: random()`, () => {
      const r = new PythonRandom(seed);
      expect(c.random.map(() => r.random())).toEqual(c.random.map(Number));
    });
    it(`seed ${c.seed}: _randbelow and getrandbits(k)`, () => {
      const r = new PythonRandom(seed);
      const ns = [1, 2, 3, 7, 100, 1000, 1838, 2 ** 31 - 1];
      expect(ns.map((n) => r.randbelow(n))).toEqual(c.randbelow);
      const r2 = new PythonRandom(seed);
      expect(c.getrandbits.k.map((k) => r2.getrandbits(k))).toEqual(c.getrandbits.values);
    });
    it(`seed ${c.seed}: consecutive sample() calls (pool and set branches)`, () => {
      const r = new PythonRandom(seed);
      for (const s of c.samples) expect(r.sample(range(s.n), s.k)).toEqual(s.sample);
    });
  }

  it('accepts number and bigint seeds alike, and rejects bad arguments', () => {
    expect(new PythonRandom(1234).getrandbits(32)).toBe(new PythonRandom(1234n).getrandbits(32));
    expect(new PythonRandom(-7).getrandbits(32)).toBe(new PythonRandom(7).getrandbits(32));
    expect(() => new PythonRandom(1.5)).toThrow(/integer/);
    expect(() => new PythonRandom(1).sample([1, 2], 3)).toThrow(/larger than population/);
  });
});

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from '../checksum.js';
import { type Dataset, openDataset } from '../dataset.js';
import { DataError, ShardChecksumError, UnknownDomainError } from '../errors.js';
import { tempDir } from '../fixtures.test-helpers.js';
import { SLIMPAJAMA_DOMAINS } from '../sources/slimpajama.js';
import { createTokenizer } from '../tokenizers/tokenizer.js';
import type { Batch, StreamOptions } from './batch-builder.js';
import { syntheticDataset, syntheticDocuments } from './stream.test-helpers.js';
import type { TokenStream } from './token-stream.js';

const tmp = tempDir();
let ds: Dataset;
const dir = join(tmp.dir, 'synthetic');
beforeAll(async () => {
  await syntheticDataset(dir);
  ds = await openDataset(dir);
});
afterAll(tmp.cleanup);

/** A compact fingerprint of a batch (CRC-32 of all its arrays). */
function digest(b: Batch): string {
  let crc = 0;
  for (const a of [b.tokens, b.targets, b.mask, b.domainIds, b.sampleIds])
    crc = crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), crc);
  return `${b.step}:${b.rows}:${crc.toString(16)}`;
}

async function take(stream: TokenStream, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) {
    const b = await stream.next();
    if (!b) break;
    out.push(b);
  }
  return out;
}

const base: StreamOptions = { batchSize: 4, seqLen: 16, seed: 7, prefetch: 0 };

describe('TokenStream determinism and resume', () => {
  it('gives the same batches for the same seed, other batches for another seed', async () => {
    const a = (await take(ds.stream(base), 20)).map(digest);
    const b = (await take(ds.stream(base), 20)).map(digest);
    const c = (await take(ds.stream({ ...base, seed: 8 }), 20)).map(digest);
    const [first] = await take(ds.stream(base), 1);
    for (let r = 0; r < first.rows; r++) {
      const info = ds.describeSample(first.sampleIds[r]);
      expect(info.domain).toBe(ds.domains[first.domainIds[r]]);
      expect(info.split).toBe('train');
    }
    expect(() => ds.describeSample(1e15)).toThrow(/a sample id of this dataset/);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBe(20);
  });

  it('gives the same batches with the prefetch worker as on this thread, also after setWeights', async () => {
    const local = ds.stream(base);
    const worker = ds.stream({ ...base, prefetch: 3 });
    expect((await take(worker, 6)).map(digest)).toEqual((await take(local, 6)).map(digest));
    const w = { arxiv: 5, book: 1, cc: 0, c4: 0, github: 0, stackexchange: 0, wikipedia: 1 };
    local.setWeights(w);
    worker.setWeights(w);
    const after = await take(worker, 6);
    expect(after.map(digest)).toEqual((await take(local, 6)).map(digest));
    expect(after[0].step).toBe(6);
    const drawn = new Set(after.flatMap((b) => Array.from(b.domainIds)));
    expect([...drawn].every((d) => [0, 1, 6].includes(d))).toBe(true);
    expect(drawn.has(0)).toBe(true);
    expect(worker.weights().arxiv).toBeCloseTo(5 / 7);
    expect(worker.stats().batches).toBe(12);
    await worker.close();
  });

  it('resumes exactly from state() in the same process', async () => {
    const s = ds.stream({ ...base, packing: 'document' });
    await take(s, 5);
    const state = JSON.parse(JSON.stringify(s.state()));
    const expected = (await take(s, 4)).map(digest);
    const resumed = ds.stream({ ...base, packing: 'document' });
    resumed.load(state);
    expect((await take(resumed, 4)).map(digest)).toEqual(expected);
    const other = ds.stream({ ...base, packing: 'document', seqLen: 32 });
    expect(() => other.load(state)).toThrow(
      /saved with seqLen = 16, but this stream has seqLen = 32/,
    );
  });

  it('resumes exactly in a fresh process (built dist, prefetch worker)', async () => {
    const options = { ...base, mixture: { arxiv: 0.2, book: 0.3, cc: 0.5 } };
    const s = ds.stream(options);
    await take(s, 7);
    const statePath = join(tmp.dir, 'state.json');
    writeFileSync(statePath, JSON.stringify(s.state()));
    const expected = (await take(s, 5)).map(digest);
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const scriptPath = join(tmp.dir, 'resume-child.mjs');
    writeFileSync(
      scriptPath,
      `
      import { openDataset, crc32 } from ${JSON.stringify(dist)};
      import { readFileSync } from 'node:fs';
      const [dir, statePath, options] = process.argv.slice(2);
      const ds = await openDataset(dir);
      const stream = ds.stream({ ...JSON.parse(options), prefetch: 2 });
      stream.load(JSON.parse(readFileSync(statePath, 'utf8')));
      const out = [];
      for (let i = 0; i < 5; i++) {
        const b = await stream.next();
        let crc = 0;
        for (const a of [b.tokens, b.targets, b.mask, b.domainIds, b.sampleIds]) crc = crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), crc);
        out.push(b.step + ':' + b.rows + ':' + crc.toString(16));
      }
      await stream.close();
      console.log(JSON.stringify(out));`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [
      scriptPath,
      dir,
      statePath,
      JSON.stringify(options),
    ]);
    expect(JSON.parse(stdout)).toEqual(expected);
  });
});

describe('TokenStream data parallelism', () => {
  it('gives each rank its slice of the same global batch; states are equal on every rank', async () => {
    const W = 3;
    const B = 2;
    for (const split of ['train', 'validation'] as const) {
      const options = { ...base, split, packing: 'document' as const, batchSize: B };
      const global = ds.stream({ ...options, batchSize: B * W });
      const ranks = Array.from({ length: W }, (_, rank) =>
        ds.stream({ ...options, worldSize: W, rank }),
      );
      for (let step = 0; ; step++) {
        const g = await global.next();
        const parts = await Promise.all(ranks.map((r) => r.next()));
        if (g === null) {
          expect(parts).toEqual([null, null, null]);
          break;
        }
        const T = base.seqLen;
        parts.forEach((p, rank) => {
          expect(p?.step).toBe(step);
          expect(p?.rows).toBe(Math.max(0, Math.min(B, g.rows - rank * B)));
          expect(Array.from(p?.tokens ?? [])).toEqual(
            Array.from(g.tokens.subarray(rank * B * T, (rank + 1) * B * T)),
          );
          expect(Array.from(p?.sampleIds ?? [])).toEqual(
            Array.from(g.sampleIds.subarray(rank * B, (rank + 1) * B)),
          );
        });
        const [s0, s1, s2] = ranks.map((r) => r.state());
        expect(s1).toEqual(s0);
        expect(s2).toEqual(s0);
        if (split === 'train' && step === 5) break;
      }
    }
    expect(() => ds.stream({ ...base, worldSize: 2, rank: 2 })).toThrow(
      /rank: 2; expected an integer in \[0, worldSize - 1 = 1\]/,
    );
  });
});

describe('TokenStream resumed on another world size', () => {
  it('a state of batch 6 on 1 rank loads into 3 ranks of 2 (the same global batch) and goes on identically', async () => {
    const options = { ...base, packing: 'document' as const };
    const one = ds.stream({ ...options, batchSize: 6 });
    await take(one, 3);
    const state = JSON.parse(JSON.stringify(one.state()));
    const g = await one.next();
    const ranks = Array.from({ length: 3 }, (_, rank) =>
      ds.stream({ ...options, batchSize: 2, worldSize: 3, rank }),
    );
    for (const r of ranks) r.load(state);
    const parts = await Promise.all(ranks.map((r) => r.next()));
    const T = base.seqLen;
    parts.forEach((p, rank) => {
      expect(Array.from(p!.tokens)).toEqual(
        Array.from(g!.tokens.subarray(rank * 2 * T, (rank + 1) * 2 * T)),
      );
    });
    const other = ds.stream({ ...options, batchSize: 2, worldSize: 2, rank: 0 });
    expect(() => other.load(state)).toThrow(
      /global batch of 6 rows \(batchSize 6 x worldSize 1\), but this stream draws 4 \(batchSize 2 x worldSize 2\)/,
    );
  });
});

describe('TokenStream packing', () => {
  it('concat rows are chunks of T + 1 of the documents joined with end-of-text (as llm.c)', async () => {
    const T = 16;
    const s = ds.stream({
      batchSize: 3,
      seqLen: T,
      shuffle: false,
      mixture: { book: 1 },
      exhaustion: 'stop',
      prefetch: 0,
    });
    const tokenizer = await createTokenizer('byte');
    // Independent construction: the stored train shards' documents, in stored order.
    const firstShard = ds.index.shards.find((e) => e.split === 'train' && e.domain === 'book');
    const docs = [...ds.documents('train', 'book')].filter((d) => d.file === firstShard?.file);
    const virtual: number[] = [];
    for (const d of docs) virtual.push(256, ...d.tokens);
    const b = (await s.next()) as Batch;
    for (let r = 0; r < 3; r++) {
      expect(Array.from(b.tokens.subarray(r * T, r * T + T))).toEqual(
        virtual.slice(r * T, r * T + T),
      );
      expect(Array.from(b.targets.subarray(r * T, r * T + T))).toEqual(
        virtual.slice(r * T + 1, r * T + T + 1),
      );
    }
    expect(Array.from(b.mask).every((m) => m === 1)).toBe(true);
    expect(tokenizer.decode(b.tokens.subarray(1, T))).toBe(
      syntheticDocuments(60)
        .filter((d) => d.domain === 'book')[0]
        .text.slice(0, T - 1),
    );
  });

  it('document rows decode to the original documents (padding masked), one pass over validation', async () => {
    const tokenizer = await createTokenizer('byte');
    const s = ds.stream({
      batchSize: 5,
      seqLen: 24,
      split: 'validation',
      packing: 'document',
      shuffle: false,
      prefetch: 2,
    });
    const texts: string[] = [];
    // Rows of different domains interleave; within a domain (no shuffle) pieces are in order.
    const current = new Map<number, number[]>();
    const seen = new Set<number>();
    let rows = 0;
    for await (const b of s) {
      for (let r = 0; r < b.rows; r++) {
        expect(seen.has(b.sampleIds[r])).toBe(false);
        seen.add(b.sampleIds[r]);
        rows++;
        for (let k = 0; k < 24; k++) {
          if (b.mask[r * 24 + k] === 0) continue;
          const t = b.targets[r * 24 + k];
          const open = current.get(b.domainIds[r]) ?? [];
          if (t === 256) {
            texts.push(tokenizer.decode(open));
            current.set(b.domainIds[r], []);
          } else current.set(b.domainIds[r], [...open, t]);
        }
      }
      for (let r = b.rows; r < b.batchSize; r++) {
        expect(b.domainIds[r]).toBe(-1);
        expect(b.mask.subarray(r * 24, r * 24 + 24).every((m) => m === 0)).toBe(true);
      }
    }
    expect(await s.next()).toBeNull(); // and stays ended
    await s.close();
    const expected = [...ds.documents('validation')].map((d) => tokenizer.decode(d.tokens));
    expect([...texts].sort()).toEqual([...expected].sort());
    const all = new Set(syntheticDocuments(60).map((d) => d.text));
    expect(texts.every((t) => all.has(t))).toBe(true);
    expect(rows).toBe(seen.size);
  });
});

describe('TokenStream mixtures', () => {
  it('draws domains with the DoGE weights of the spec (chi-square, 6 dof, fixed seed)', async () => {
    // Spec section 7, Table 3: DoGE .088 .045 .269 .214 .070 .166 .148 (arxiv ... wikipedia).
    const doge = [0.088, 0.045, 0.269, 0.214, 0.07, 0.166, 0.148];
    const mixture = Object.fromEntries(SLIMPAJAMA_DOMAINS.map((d, i) => [d, doge[i]]));
    const s = ds.stream({ batchSize: 100, seqLen: 8, seed: 3, mixture, prefetch: 0 });
    const counts = new Array(7).fill(0);
    for (const b of await take(s, 100)) for (const d of b.domainIds) counts[d]++;
    const n = 10_000;
    const chi2 = (p: number[]) =>
      counts.reduce((acc, c, i) => acc + (c - n * p[i]) ** 2 / (n * p[i]), 0);
    // 6 degrees of freedom: the 0.999 quantile is 22.46.
    expect(chi2(doge)).toBeLessThan(22.46);
    // The same test rejects the DoReMi weights, so it can fail.
    const doremi = [0.04235, 0.08201, 0.381, 0.1141, 0.0654, 0.0847, 0.2305];
    expect(chi2(doremi.map((w) => w / doremi.reduce((a, b) => a + b)))).toBeGreaterThan(22.46);
  });

  it('names unknown domains with the known ones', () => {
    const error = (() => {
      try {
        ds.stream({ ...base, mixture: { arxiv: 1, books: 1 } });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(UnknownDomainError);
    expect(error?.message).toContain(
      'unknown domain "books" in mixture; known domains: arxiv, book, cc, c4, github, stackexchange, wikipedia',
    );
    expect(() => ds.stream(base).setWeights({ wiki: 1 })).toThrow(UnknownDomainError);
    expect(() => ds.stream({ ...base, mixture: { arxiv: -1 } })).toThrow(/mixture.arxiv/);
    expect(() => ds.stream({ ...base, exhaustion: { nope: 'stop' } })).toThrow(
      /unknown domain "nope" in exhaustion/,
    );
  });

  it("applies exhaustion policies: 'stop' ends the stream, 'renormalise' drains all, 'cycle' repeats", async () => {
    const samples = (domain: string) => {
      let n = 0;
      for (const e of ds.index.shards)
        if (e.split === 'train' && e.domain === domain)
          n += Math.floor((e.tokens + e.documents - 1) / 16);
      return n;
    };
    const count = async (options: Partial<StreamOptions>, limit = 10_000) => {
      const s = ds.stream({ ...base, ...options });
      const perDomain = new Map<number, number[]>();
      let batches = 0;
      for (let b = await s.next(); b && batches < limit; b = await s.next(), batches++) {
        for (let r = 0; r < b.rows; r++)
          perDomain.set(b.domainIds[r], [...(perDomain.get(b.domainIds[r]) ?? []), b.sampleIds[r]]);
      }
      return perDomain;
    };
    const mixture = { arxiv: 1, book: 1 };
    const stop = await count({ mixture, exhaustion: 'stop' });
    // The stream ends when a domain runs out: that domain gave exactly its epoch, the other less.
    const [a, b] = [stop.get(0)?.length ?? 0, stop.get(1)?.length ?? 0];
    expect(
      (a === samples('arxiv') && b <= samples('book')) ||
        (b === samples('book') && a <= samples('arxiv')),
    ).toBe(true);
    expect(a + b).toBeLessThan(samples('arxiv') + samples('book'));
    const drained = await count({ mixture, exhaustion: 'renormalise' });
    expect(new Set(drained.get(0)).size).toBe(samples('arxiv'));
    expect(drained.get(0)?.length).toBe(samples('arxiv'));
    expect(drained.get(1)?.length).toBe(samples('book'));
    const cycled = await count(
      { mixture: { arxiv: 1 }, exhaustion: 'cycle' },
      Math.ceil((samples('arxiv') * 2.5) / 4),
    );
    const arxiv = cycled.get(0) as number[];
    expect(arxiv.length).toBeGreaterThan(2 * samples('arxiv'));
    expect(new Set(arxiv).size).toBe(samples('arxiv'));
    // A new epoch visits the samples in a new order.
    expect(arxiv.slice(samples('arxiv'), 2 * samples('arxiv'))).not.toEqual(
      arxiv.slice(0, samples('arxiv')),
    );
  });
});

describe('TokenStream on damaged data', () => {
  it('reports a corrupted shard as a checksum error, on this thread and from the worker', async () => {
    const damaged = join(tmp.dir, 'damaged');
    await syntheticDataset(damaged, 20);
    const d = await openDataset(damaged);
    for (const entry of d.index.shards) {
      const path = join(damaged, entry.file);
      const bytes = readFileSync(path);
      bytes[bytes.length - 2] ^= 0x55;
      writeFileSync(path, bytes);
    }
    await expect(d.stream(base).next()).rejects.toThrow(ShardChecksumError);
    const worker = d.stream({ ...base, prefetch: 2 });
    const error = await worker.next().catch((e) => e);
    expect(DataError.isInstance(error)).toBe(true);
    expect(error.code).toBe('SHARD_CHECKSUM');
    expect(error.message).toContain('HINT: run prepare() again');
    await worker.close();
  });
});

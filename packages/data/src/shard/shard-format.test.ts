import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ShardChecksumError, ShardFormatError } from '../errors.js';
import { tempDir } from '../fixtures.test-helpers.js';
import { type DatasetIndex, readIndex, writeIndex } from './dataset-index.js';
import { readShard, readShardHeader, writeShard } from './shard-format.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

const contents = (tokenBytes: 2 | 4) => ({
  tokenBytes,
  vocabSize: tokenBytes === 2 ? 50257 : 128256,
  eotId: tokenBytes === 2 ? 50256 : 128001,
  fingerprint: 0xdeadbeef,
  docLengths: [3, 0, 2],
  domainIds: [1, 1, 7],
  tokens: tokenBytes === 2 ? [1, 2, 50000, 7, 8] : [1, 2, 128000, 7, 8],
});

describe('shard format', () => {
  it.each([2, 4] as const)('round-trips uint%# tokens, offsets and domain ids', (tokenBytes) => {
    const path = join(tmp.dir, `rt-${tokenBytes}.bin`);
    const header = writeShard(path, contents(tokenBytes));
    expect(header).toMatchObject({
      version: 1,
      tokenBytes,
      numDocs: 3,
      numTokens: 5,
      fingerprint: 0xdeadbeef,
    });
    const shard = readShard(path);
    expect(Array.from(shard.docOffsets)).toEqual([0, 3, 3, 5]);
    expect(Array.from(shard.domainIds)).toEqual([1, 1, 7]);
    expect(Array.from(shard.tokens)).toEqual(contents(tokenBytes).tokens);
    expect(shard.tokens).toBeInstanceOf(tokenBytes === 2 ? Uint16Array : Uint32Array);
    expect(readShardHeader(path)).toEqual(header);
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('LRWSHARD');
    expect(bytes.length).toBe(64 + 4 * 4 + 8 + tokenBytes * 5);
  });

  it('refuses ids that do not fit the vocabulary', () => {
    expect(() =>
      writeShard(join(tmp.dir, 'bad.bin'), { ...contents(2), tokens: [1, 2, 60000, 7, 8] }),
    ).toThrow(/vocabSize 50257/);
  });

  it('detects a flipped payload byte with a checksum error and a HINT', () => {
    const path = join(tmp.dir, 'flip.bin');
    writeShard(path, contents(2));
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0x10;
    writeFileSync(path, bytes);
    const error = (() => {
      try {
        readShard(path);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ShardChecksumError);
    expect(error?.message).toMatch(
      /flip\.bin: checksum mismatch \(header 0x[0-9a-f]{8}, data 0x[0-9a-f]{8}\)/,
    );
    expect(error?.message).toContain(
      'HINT: run prepare() again into this folder with the same options',
    );
  });

  it('detects a truncated shard, a damaged header, a wrong magic and an unknown version', () => {
    const path = join(tmp.dir, 'trunc.bin');
    writeShard(path, contents(2));
    const good = readFileSync(path);
    truncateSync(path, good.length - 4);
    expect(() => readShard(path)).toThrow(ShardFormatError);
    expect(() => readShard(path)).toThrow(/truncated/);
    truncateSync(path, 10);
    expect(() => readShard(path)).toThrow(/shorter than the 64-byte header/);
    const header = Buffer.from(good);
    header[16] ^= 1; // numDocs
    writeFileSync(path, header);
    expect(() => readShard(path)).toThrow(ShardChecksumError);
    const magic = Buffer.from(good);
    magic.write('NOTSHARD', 0, 'latin1');
    writeFileSync(path, magic);
    expect(() => readShard(path)).toThrow(/bad magic "NOTSHARD"/);
  });
});

describe('dataset index', () => {
  it('round-trips through msgpack and rejects a corrupted index', () => {
    const path = join(tmp.dir, 'index.lrw');
    const index = {
      format: 'lrw-data',
      version: 1,
      tokenizer: { name: 'byte', vocabSize: 257, eotId: 256, spec: 'byte' },
      tokenBytes: 2,
      domains: ['a', 'b'],
      seed: 3,
      validation: { fraction: 0.1 },
      shards: [],
      stats: { train: {}, validation: {}, skippedLines: 0, emptyDocuments: 0 },
      createdBy: '@lrw/data',
    } satisfies DatasetIndex;
    writeIndex(path, index);
    expect(readIndex(path)).toEqual(index);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    expect(() => readIndex(path)).toThrow(ShardChecksumError);
    expect(() => readIndex(join(tmp.dir, 'none.lrw'))).toThrow(
      /an interrupted prepare\(\) leaves no index/,
    );
  });
});

import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../dataset.js';
import {
  type DataError,
  ShardChecksumError,
  ShardFormatError,
  ShardMissingError,
} from '../errors.js';
import { fixture, tempDir } from '../fixtures.test-helpers.js';
import { prepare } from '../prepare/prepare.js';

const tmp = tempDir();
let good: string;
beforeAll(async () => {
  good = join(tmp.dir, 'good');
  await prepare({
    sources: [{ type: 'text', path: fixture('tinyshakespeare-excerpt.txt'), split: 'paragraph' }],
    outDir: good,
    tokenizer: 'byte',
    workers: 0,
    shardTextBytes: 4000,
    validation: { documents: 5 },
  });
});
afterAll(tmp.cleanup);

/** A copy of the good dataset with `damage` applied to its first shard of `split`. */
async function damaged(
  name: string,
  split: 'train' | 'validation',
  damage: (file: string) => void,
) {
  const dir = join(tmp.dir, name);
  cpSync(good, dir, { recursive: true });
  const ds = await openDataset(dir);
  const file = join(dir, ds.index.shards.find((s) => s.split === split)!.file);
  damage(file);
  return { ds, file };
}

describe('Dataset.verify', () => {
  it('reads every shard of both splits of a good dataset', async () => {
    const ds = await openDataset(good);
    const seen: number[] = [];
    const r = await ds.verify({ onShard: ({ done }) => seen.push(done) });
    expect(r.shards).toBe(ds.index.shards.length);
    expect(ds.index.shards.some((s) => s.split === 'validation')).toBe(true);
    expect(seen).toEqual(ds.index.shards.map((_, i) => i + 1));
  });

  it('names a deleted shard (validation too) instead of a bare ENOENT', async () => {
    const { ds, file } = await damaged('deleted', 'validation', (f) => rmSync(f));
    const error = await ds.verify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardMissingError);
    expect((error as DataError).code).toBe('SHARD_MISSING');
    expect((error as Error).message).toContain(
      `${file}: the dataset index lists this shard, but the file does not exist`,
    );
  });

  it('names a truncated shard and a flipped byte', async () => {
    const cut = await damaged('cut', 'train', (f) => truncateSync(f, readFileSync(f).length - 3));
    await expect(cut.ds.verify()).rejects.toThrow(ShardFormatError);
    await expect(cut.ds.verify()).rejects.toThrow(`${cut.file}: `);
    const flipped = await damaged('flipped', 'validation', (f) => {
      const b = readFileSync(f);
      b[b.length - 1] ^= 0x01;
      writeFileSync(f, b);
    });
    await expect(flipped.ds.verify()).rejects.toThrow(ShardChecksumError);
  });

  it('names a valid shard that is not the one the index lists', async () => {
    const ds = await openDataset(good);
    const [a, b] = ds.index.shards.filter((s) => s.split === 'train');
    const swapped = await damaged('swapped', 'train', (f) => cpSync(join(good, b!.file), f));
    expect(swapped.file.endsWith(a!.file)).toBe(true);
    await expect(swapped.ds.verify()).rejects.toThrow(
      /is a valid shard but not the one the dataset index lists/,
    );
  });

  it('stops between shards when its signal is aborted', async () => {
    const ds = await openDataset(good);
    const controller = new AbortController();
    const error = await ds
      .verify({ signal: controller.signal, onShard: () => controller.abort(new Error('stop')) })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('stop');
  });

  it('calls a corrupted index.lrw the dataset index, not a shard', async () => {
    const dir = join(tmp.dir, 'bad-index');
    cpSync(good, dir, { recursive: true });
    const path = join(dir, 'index.lrw');
    const bytes = readFileSync(path);
    bytes[bytes.length - 2] ^= 0xff;
    writeFileSync(path, bytes);
    const error = await openDataset(dir).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /index\.lrw: checksum mismatch .*: the dataset index is corrupted/,
    );
    expect((error as Error).message).not.toContain('shard is');
  });
});

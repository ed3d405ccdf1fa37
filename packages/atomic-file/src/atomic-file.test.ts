import * as fs from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isTemporaryFile, writeFileAtomic, writeFileAtomicSync } from './atomic-file.js';

// Count the fsyncs (of the file and of its folder) without changing what they do.
vi.mock('node:fs', async (original) => {
  const actual = await original<typeof import('node:fs')>();
  return { ...actual, fsyncSync: vi.fn(actual.fsyncSync) };
});
vi.mock('node:fs/promises', async (original) => {
  const actual = await original<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: vi.fn(async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const sync = handle.sync.bind(handle);
      handle.sync = vi.fn(sync);
      opened.push(handle);
      return handle;
    }),
  };
});
const opened: { sync: unknown }[] = [];

const dirs: string[] = [];
async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lrw-atomic-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);

describe('writeFileAtomic', () => {
  it('writes text, bytes, chunks or through the open file, replacing the target', async () => {
    const dir = await folder();
    const target = join(dir, 'a.json');
    await writeFile(target, 'old');
    await writeFileAtomic(target, 'text ✓');
    expect(await readFile(target, 'utf8')).toBe('text ✓');
    await writeFileAtomic(target, bytes('bytes'));
    expect(await readFile(target, 'utf8')).toBe('bytes');
    await writeFileAtomic(target, [bytes('one '), bytes(''), bytes('two')]);
    expect(await readFile(target, 'utf8')).toBe('one two');
    await writeFileAtomic(target, async (handle) => {
      await handle.write(bytes('tail'), 0, 4, 4);
      await handle.write(bytes('head'), 0, 4, 0);
    });
    expect(await readFile(target, 'utf8')).toBe('headtail');
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('fsyncs the file and its folder', async () => {
    const dir = await folder();
    opened.length = 0;
    await writeFileAtomic(join(dir, 'b'), 'x');
    // Two handles opened: the temporary file and the folder; both synced.
    expect(opened).toHaveLength(2);
    for (const handle of opened) expect(handle.sync).toHaveBeenCalledTimes(1);
  });

  it('leaves the old file and no temporary file when the write or the hook fails', async () => {
    const dir = await folder();
    const target = join(dir, 'c');
    await writeFile(target, 'old');
    const broken = new Error('disk full');
    await expect(
      writeFileAtomic(target, async () => {
        throw broken;
      }),
    ).rejects.toBe(broken);
    let temp = '';
    await expect(
      writeFileAtomic(target, 'new', {
        beforeRename: (path) => {
          temp = path;
          throw broken;
        },
      }),
    ).rejects.toBe(broken);
    expect(isTemporaryFile(temp.split('/').pop() ?? '')).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['c']);
  });
});

describe('writeFileAtomicSync', () => {
  it('writes, fsyncs file and folder, and leaves nothing behind on error', async () => {
    const dir = await folder();
    const target = join(dir, 'd.bin');
    const fsync = vi.mocked(fs.fsyncSync);
    fsync.mockClear();
    writeFileAtomicSync(target, [bytes('ab'), bytes('cd')]);
    expect(await readFile(target, 'utf8')).toBe('abcd');
    expect(fsync).toHaveBeenCalledTimes(2);
    expect(() => writeFileAtomicSync(join(dir, 'missing', 'e'), 'x')).toThrow(/ENOENT/);
    writeFileAtomicSync(target, 'text');
    expect(await readFile(target, 'utf8')).toBe('text');
    expect(await readdir(dir)).toEqual(['d.bin']);
  });
});

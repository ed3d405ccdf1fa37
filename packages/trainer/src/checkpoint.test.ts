import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CheckpointContents,
  readCheckpointFile,
  writeCheckpointFile,
} from './checkpoint-file.js';
import { CheckpointStore, checkpointFileName } from './checkpoint-store.js';
import { crc32 } from './crc32.js';
import { TrainerError } from './trainer-error.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lrw-ckpt-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function sample(step: number): CheckpointContents {
  const w = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i + step) * 1e3);
  w[3] = -0;
  w[5] = Number.NaN;
  w[7] = Number.POSITIVE_INFINITY;
  w[9] = 1.401298464324817e-45; // smallest subnormal
  return {
    step,
    model: {
      'h.0.attn.c_attn.weight': { shape: [4, 6], data: w },
      'ln_f.bias': { shape: [3], data: Float32Array.of(0.1, 0.2, 0.3) },
    },
    optimizer: {
      tensors: {
        'm/ln_f.bias': { shape: [3], data: Float32Array.of(1, 2, 3) },
        'v/empty': { shape: [0, 4], data: new Float32Array(0) },
      },
      state: { step, betas: [0.9, 0.95], eps: 1e-8 },
    },
    parts: {
      data: { shard: 3, offset: 123456789012n, order: Uint32Array.of(4, 1, 0xffffffff) },
      rng: { s: BigInt.asUintN(64, -1n), counter: 7 },
      lrSchedule: {
        kind: 'cosine',
        peakLr: 5e-4,
        endLr: 1e-4,
        warmupSteps: 500,
        totalSteps: 20000,
      },
      reweighter: { r: 0.4, history: Float64Array.of(0.1, Math.PI) },
      metricsOffset: 4096,
      note: 'héllo ✓',
    },
    config: { model: 'gpt2-nano', seed: 1, lr: 5e-4, nested: { deep: [1, null, 'x'] } },
  };
}

describe('checkpoint file', () => {
  it('round-trips weights bit for bit and every state exactly', async () => {
    const path = join(await tempDir(), 'a.lrwckpt');
    const original = sample(100);
    await writeCheckpointFile(path, original);
    const loaded = await readCheckpointFile(path);
    expect(loaded.step).toBe(100);
    const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
    for (const [name, t] of Object.entries(original.model)) {
      expect(loaded.model[name]!.shape).toEqual(t.shape);
      expect(bits(loaded.model[name]!.data)).toEqual(bits(t.data));
    }
    expect(loaded.optimizer.tensors['v/empty']!.shape).toEqual([0, 4]);
    expect(Array.from(loaded.optimizer.tensors['m/ln_f.bias']!.data)).toEqual([1, 2, 3]);
    expect(loaded.optimizer.state).toEqual(original.optimizer.state);
    expect(loaded.parts).toEqual(original.parts);
    expect(loaded.config).toEqual(original.config);
    // no temporary file is left behind
    expect((await readdir(dirname(path))).filter((n) => n !== 'a.lrwckpt')).toEqual([]);
  });

  it('starts with magic and version, and checksums its header', async () => {
    const path = join(await tempDir(), 'a.lrwckpt');
    await writeCheckpointFile(path, sample(1));
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('LRWCKPT\0');
    expect(bytes.readUInt32LE(8)).toBe(1);
    expect(bytes.readUInt32LE(40)).toBe(crc32(bytes.subarray(0, 40)));
  });

  it('detects a flipped byte anywhere that matters', async () => {
    const dir = await tempDir();
    const path = join(dir, 'good.lrwckpt');
    await writeCheckpointFile(path, sample(2));
    const good = await readFile(path);
    const metaLength = Number(good.readBigUInt64LE(16));
    const positions: [number, RegExp][] = [
      [20, /header checksum mismatch/], // payload length
      [48 + Math.floor(metaLength / 2), /metadata checksum mismatch/],
      [good.length - 13, /tensor data checksum mismatch/],
    ];
    for (const [at, message] of positions) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x10;
      const badPath = join(dir, `bad-${at}.lrwckpt`);
      await writeFile(badPath, bad);
      const error = await readCheckpointFile(badPath).catch((e: unknown) => e);
      expect(TrainerError.isInstance(error)).toBe(true);
      expect((error as TrainerError).code).toBe('checkpoint-corrupt');
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/\nHINT: .*earlier checkpoint/);
    }
  });

  it('reports truncation at any length, and trailing bytes', async () => {
    const dir = await tempDir();
    const path = join(dir, 'a.lrwckpt');
    await writeCheckpointFile(path, sample(3));
    const size = (await readFile(path)).length;
    for (const keep of [0, 7, 30, 47, 48, 100, size - 1]) {
      const cut = join(dir, `cut-${keep}.lrwckpt`);
      await writeFile(cut, (await readFile(path)).subarray(0, keep));
      await expect(readCheckpointFile(cut)).rejects.toMatchObject({ code: 'checkpoint-truncated' });
    }
    await expect(readCheckpointFile(join(dir, 'cut-100.lrwckpt'))).rejects.toThrow(
      new RegExp(`is 100 bytes but its header says ${size}: it is truncated`),
    );
    const long = join(dir, 'long.lrwckpt');
    await writeFile(long, Buffer.concat([await readFile(path), Buffer.of(0)]));
    await expect(readCheckpointFile(long)).rejects.toThrow(/trailing bytes/);
  });

  it('names the version it found and what to do', async () => {
    const dir = await tempDir();
    const path = join(dir, 'a.lrwckpt');
    await writeCheckpointFile(path, sample(4));
    const bytes = await readFile(path);
    bytes.writeUInt32LE(2, 8);
    bytes.writeUInt32LE(crc32(bytes.subarray(0, 40)), 40);
    await writeFile(path, bytes);
    const error = (await readCheckpointFile(path).catch((e: unknown) => e)) as TrainerError;
    expect(error.code).toBe('checkpoint-version');
    expect(error.message).toMatch(/format version 2, this @lrw\/trainer reads version 1/);
    expect(error.hint).toMatch(/upgrade @lrw\/trainer/);
  });

  it('rejects other files and missing files clearly', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'x.json'), '{"not": "a checkpoint at all, but long enough to read"}');
    await expect(readCheckpointFile(join(dir, 'x.json'))).rejects.toThrow(
      /does not start with the checkpoint magic/,
    );
    await expect(readCheckpointFile(join(dir, 'nope.lrwckpt'))).rejects.toMatchObject({
      code: 'checkpoint-not-found',
    });
  });

  it('refuses tensors whose shape does not match their data', async () => {
    const c = sample(5);
    c.model['bad'] = { shape: [2, 2], data: new Float32Array(3) };
    await expect(writeCheckpointFile(join(await tempDir(), 'a.lrwckpt'), c)).rejects.toThrow(
      /"model\/bad" has shape \[2, 2\] \(4 values\) but 3 values/,
    );
  });
});

describe('CheckpointStore', () => {
  it('keeps the last K, points latest at the newest, and lists in step order', async () => {
    const dir = join(await tempDir(), 'checkpoints');
    const store = new CheckpointStore(dir, { keepLast: 2 });
    expect(await store.loadLatest()).toBeUndefined();
    for (const step of [10, 20, 30]) await store.save(sample(step));
    expect((await store.list()).map((c) => c.step)).toEqual([20, 30]);
    expect((await readFile(join(dir, 'latest'), 'utf8')).trim()).toBe(checkpointFileName(30));
    expect((await store.loadLatest())!.step).toBe(30);
    expect((await store.load(20)).step).toBe(20);
  });

  it('after resuming from an earlier step, drops the abandoned later checkpoints', async () => {
    const store = new CheckpointStore(await tempDir(), { keepLast: 5 });
    for (const step of [1, 2, 3]) await store.save(sample(step));
    await store.save(sample(2)); // resumed from step 1, reached step 2 again
    expect((await store.list()).map((c) => c.step)).toEqual([1, 2]);
    expect((await store.latest())!.step).toBe(2);
  });

  it('a crash between write and rename leaves the previous checkpoint loadable', async () => {
    const dir = await tempDir();
    const store = new CheckpointStore(dir);
    await store.save(sample(1));
    const crash = new Error('simulated crash before rename');
    await expect(store.save(sample(2), { beforeRename: () => Promise.reject(crash) })).rejects.toBe(
      crash,
    );
    expect((await store.loadLatest())!.step).toBe(1);
    expect((await store.list()).map((c) => c.step)).toEqual([1]);
  });

  it('points at earlier checkpoints when the latest one is damaged', async () => {
    const dir = await tempDir();
    const store = new CheckpointStore(dir);
    await store.save(sample(1));
    const second = await store.save(sample(2));
    await truncate(second.path, 60);
    const error = (await store.loadLatest().catch((e: unknown) => e)) as TrainerError;
    expect(error.code).toBe('checkpoint-truncated');
    expect(error.hint).toBe(
      `resume from an earlier checkpoint instead: write its file name (${checkpointFileName(1)}) into ${join(dir, 'latest')}, then resume again.`,
    );
    await writeFile(join(dir, 'latest'), 'garbage');
    await expect(store.loadLatest()).rejects.toThrow(/should name a step-\*\.lrwckpt file/);
    expect(() => new CheckpointStore(dir, { keepLast: 0 })).toThrow(/keepLast = 0/);
  });
});

// A real crash: a child process saving checkpoints is killed with SIGKILL.
const require = createRequire(import.meta.url);
const viteNode = (() => {
  try {
    return join(dirname(require.resolve('vite-node')), '..', 'vite-node.mjs');
  } catch {
    return undefined;
  }
})();
const hasViteNode = viteNode !== undefined && existsSync(viteNode);
if (!hasViteNode)
  console.warn('checkpoint SIGKILL tests skipped: vite-node (installed with vitest) not found');

function startChild(dir: string, mode: 'hang' | 'loop') {
  const script = fileURLToPath(new URL('./checkpoint-crash.test-helpers.ts', import.meta.url));
  const child = spawn(process.execPath, [viteNode!, script, dir, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('READY')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited early with code ${code}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_c, signal) => resolve(signal)),
  );
  return { child, ready, exited };
}

describe.skipIf(!hasViteNode)('CheckpointStore under SIGKILL', () => {
  it('killed after writing the temporary file but before the rename: step 1 survives', async () => {
    const dir = await tempDir();
    const { child, ready, exited } = startChild(dir, 'hang');
    await ready;
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const names = await readdir(dir);
    expect(names.some((n) => n.startsWith('.step-000000002.lrwckpt.tmp-'))).toBe(true);
    const store = new CheckpointStore(dir, { keepLast: 2 });
    expect((await store.list()).map((c) => c.step)).toEqual([1]);
    const loaded = (await store.loadLatest())!;
    expect(loaded.step).toBe(1);
    expect(loaded.model['w']!.data[999]).toBe(1);
    await store.save(sample(2)); // the next save clears the leftover temporary file
    expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('killed at an arbitrary moment while saving 8 MB checkpoints: latest always loads', async () => {
    const dir = await tempDir();
    const { child, ready, exited } = startChild(dir, 'loop');
    await ready;
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await exited;
    const loaded = (await new CheckpointStore(dir, { keepLast: 2 }).loadLatest())!;
    expect(loaded.step).toBeGreaterThanOrEqual(1);
    expect(loaded.model['w']!.data[1_999_999]).toBe(loaded.step);
  });
});

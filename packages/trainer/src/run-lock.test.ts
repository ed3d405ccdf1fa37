import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentHolder, holderAlive, LOCK_FILE, RunLock, type RunLockHolder } from './run-lock.js';
import { TrainerError } from './trainer-error.js';

const root = mkdtempSync(join(tmpdir(), 'lrw-run-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const dir = join(root, `run-${n++}`);
  spawnSync('mkdir', ['-p', dir]);
  return dir;
};
const writeHolder = (dir: string, holder: RunLockHolder) =>
  writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify(holder)}\n`);

/** A pid that is certainly not running: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
const HAVE_PROC = existsSync('/proc/self/stat');

function refusal(dir: string): TrainerError {
  try {
    RunLock.acquire(dir).release();
  } catch (e) {
    if (TrainerError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected the lock to be refused');
}

describe('RunLock', () => {
  it('is exclusive: a second writer is refused with the holder named, until the first releases', () => {
    const dir = fresh();
    const lock = RunLock.acquire(dir, 'lrw train --out x');
    const held = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as RunLockHolder;
    expect(held).toMatchObject({
      pid: process.pid,
      host: hostname(),
      command: 'lrw train --out x',
    });
    const e = refusal(dir);
    expect(e.code).toBe('run-locked');
    expect(e.message).toContain(
      `is in use by pid ${process.pid} on host ${hostname()} (lrw train --out x, since`,
    );
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    RunLock.acquire(dir).release(); // free again
    expect(readdirSync(dir)).toEqual([]); // no temporary files left
  });

  it('takes over the lock of a process that is gone', () => {
    const dir = fresh();
    writeHolder(dir, { ...currentHolder('lrw train'), pid: deadPid() });
    const lock = RunLock.acquire(dir);
    expect(lock.holder.pid).toBe(process.pid);
    lock.release();
  });

  it.skipIf(!HAVE_PROC)(
    'takes over a lock whose pid now belongs to another process, or is from before a reboot',
    () => {
      const dir = fresh();
      // pid 1 runs, but it is not the process that took the lock (its start time differs)
      writeHolder(dir, { ...currentHolder(), pid: 1, processStart: '1' });
      expect(holderAlive({ ...currentHolder(), pid: 1, processStart: '1' })).toBe(false);
      RunLock.acquire(dir).release();
      writeHolder(dir, { ...currentHolder(), bootId: 'another-boot' });
      RunLock.acquire(dir).release();
    },
  );

  it('respects a lock from another host and says how to remove it', () => {
    const dir = fresh();
    writeHolder(dir, { ...currentHolder(), host: 'elsewhere', pid: deadPid() });
    const e = refusal(dir);
    expect(e.message).toContain('is in use by pid');
    expect(e.message).toContain('on host elsewhere');
    expect(e.hint).toContain(`delete ${join(dir, LOCK_FILE)}`);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  it('does not treat a foreign file named "lock" as stale', () => {
    const dir = fresh();
    writeFileSync(join(dir, LOCK_FILE), 'not ours');
    expect(refusal(dir).message).toContain('that is not an lrw lock');
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('not ours');
  });

  it('a lock attempt killed before its link leaves a temporary file that blocks nobody and ages out', () => {
    const dir = fresh();
    const old = join(dir, `.lock.tmp-${deadPid()}-0000`);
    const recent = join(dir, `.lock.tmp-${deadPid()}-0001`);
    for (const f of [old, recent]) writeFileSync(f, JSON.stringify(currentHolder()));
    const minutesAgo = (Date.now() - 120_000) / 1000;
    utimesSync(old, minutesAgo, minutesAgo);
    RunLock.acquire(dir).release();
    // the old one is removed; a recent one may be another process's attempt in flight
    expect(readdirSync(dir).sort()).toEqual([`.lock.tmp-${recent.split('.lock.tmp-')[1]}`]);
  });

  it('release leaves a lock that another process has taken over alone', () => {
    const dir = fresh();
    const lock = RunLock.acquire(dir);
    const other = { ...currentHolder(), pid: deadPid() };
    writeHolder(dir, other);
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual(other);
  });
});

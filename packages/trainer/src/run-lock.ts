import { randomBytes } from 'node:crypto';
import {
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { writeSynced } from './run-history.js';
import { TrainerError } from './trainer-error.js';

/**
 * An exclusive lock on a run directory: one writer at a time. Two trainers writing one directory
 * would interleave their metrics, rotate each other's checkpoints and leave a config.json that
 * describes neither run.
 *
 * The lock is the file `<run>/lock` holding the holder's pid, host and start time. It is created
 * complete or not at all: the content goes to a temporary file that is then hard-linked to
 * `lock` (link fails when `lock` exists), so a process killed at any moment leaves either no
 * lock or a whole one, never an empty file. A lock whose process is gone (same host: the pid is
 * not running, or a different process now has that pid, or the machine rebooted) is stale and
 * taken over; a lock from another host is respected, since its process cannot be checked from
 * here, and the error says how to remove it.
 */
export interface RunLockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** The command line, for the message a second writer gets. */
  command?: string;
  /** Linux: the process start time (clock ticks since boot, /proc/<pid>/stat), against pid reuse. */
  processStart?: string;
  /** Linux: the boot id, so that a lock from before a reboot is stale. */
  bootId?: string;
}

export const LOCK_FILE = 'lock';
const TEMP_PREFIX = '.lock.tmp-';

function procStat(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces, within parentheses)
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // running, another user's
  }
}

/** This process as a lock holder. */
export function currentHolder(command?: string): RunLockHolder {
  const start = procStat(process.pid);
  const boot = bootId();
  return {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...(command !== undefined ? { command } : {}),
    ...(start !== undefined ? { processStart: start } : {}),
    ...(boot !== undefined ? { bootId: boot } : {}),
  };
}

/**
 * Whether the holder still runs: true or false on this host, undefined on another (unknown).
 */
export function holderAlive(holder: RunLockHolder): boolean | undefined {
  if (holder.host !== hostname()) return undefined;
  const boot = bootId();
  if (holder.bootId !== undefined && boot !== undefined && holder.bootId !== boot) return false;
  if (!alive(holder.pid)) return false;
  if (holder.processStart !== undefined) {
    const now = procStat(holder.pid);
    if (now !== undefined && now !== holder.processStart) return false; // the pid was reused
  }
  return true;
}

function parseHolder(text: string): RunLockHolder | undefined {
  try {
    const h = JSON.parse(text) as RunLockHolder;
    return typeof h?.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** The holder named by `<dir>/lock`, or undefined when there is no (readable) lock. */
export function readRunLock(dir: string): RunLockHolder | undefined {
  try {
    return parseHolder(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** "pid 123 on host h (lrw train ..., since 2025-...)". */
export function describeHolder(holder: RunLockHolder): string {
  const command = holder.command ? `${holder.command}, ` : '';
  return `pid ${holder.pid} on host ${holder.host} (${command}since ${holder.startedAt})`;
}

function lockedError(dir: string, holder: RunLockHolder, alive: boolean | undefined): TrainerError {
  const lock = join(dir, LOCK_FILE);
  return new TrainerError(
    'run-locked',
    `Run directory ${dir} is in use by ${describeHolder(holder)}.`,
    alive === undefined
      ? `wait for that run to end, or stop it on ${holder.host}. If it no longer runs there (the machine crashed), delete ${lock}.`
      : `wait for that run to end or stop it (Ctrl-C there, or kill ${holder.pid}); to train something else at the same time, use another output directory.`,
  );
}

function writeTemp(dir: string, holder: RunLockHolder): string {
  const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  writeSynced(openSync(temp, 'wx'), Buffer.from(`${JSON.stringify(holder)}\n`));
  return temp;
}

/** What link() says on file systems without hard links (some network and FUSE mounts). */
const NO_HARD_LINKS = ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'];

/**
 * Where there are no hard links: an exclusive create, then the content (a kill in between
 * leaves an empty lock, which the next run reports with the path to delete). True when it took
 * the lock, false when the lock exists.
 */
function createExclusive(lock: string, temp: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  writeSynced(fd, readFileSync(temp));
  return true;
}

/** The command line of this process, for the lock: "lrw train --out runs/a" or "node script.mjs". */
export function commandLine(): string {
  const script = process.argv[1] ?? '';
  const name = /(^|[\\/])(lrw(\.js)?|main\.js)$/.test(script) ? 'lrw' : basename(script) || 'node';
  const text = [name, ...process.argv.slice(2)].join(' ');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** Temporary files of lock attempts that were killed before they finished (older than a minute). */
function removeLeftovers(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const path = join(dir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > 60_000) rmSync(path, { force: true });
    } catch {
      // gone already
    }
  }
}

/**
 * Moves a stale lock out of the way. Renaming (not deleting) it first and checking what was
 * renamed means a lock that another process took over in between is put back, not deleted.
 */
function clearStale(lock: string, seen: string): void {
  const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lock, aside);
  } catch {
    return; // someone else cleared it
  }
  if (readFileSync(aside, 'utf8') !== seen) {
    try {
      linkSync(aside, lock); // a fresh lock of another process: restore it
    } catch {
      // a third process locked meanwhile; theirs stands
    }
  }
  unlinkSync(aside);
}

/** An exclusive lock on a run directory; see the module comment. */
export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly dir: string,
    readonly holder: RunLockHolder,
  ) {
    // a process that ends by process.exit (a second Ctrl-C) still gives the lock back
    process.on('exit', this.onExit);
  }

  get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  /**
   * Takes the lock of `dir` (which must exist), or throws a TrainerError naming the holder.
   * A stale lock is taken over.
   */
  static acquire(dir: string, command?: string): RunLock {
    const holder = currentHolder(command);
    const lock = join(dir, LOCK_FILE);
    removeLeftovers(dir);
    const temp = writeTemp(dir, holder);
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(temp, lock);
          return new RunLock(dir, holder);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? '';
          if (code !== 'EEXIST') {
            if (!NO_HARD_LINKS.includes(code)) throw error;
            if (createExclusive(lock, temp)) return new RunLock(dir, holder);
          }
        }
        let text: string;
        try {
          text = readFileSync(lock, 'utf8');
        } catch {
          continue; // released meanwhile: try again
        }
        const other = parseHolder(text);
        if (other === undefined) {
          // not written by RunLock (link makes ours whole): some other file named "lock"
          throw new TrainerError(
            'run-locked',
            `Run directory ${dir} has a file "${LOCK_FILE}" that is not an lrw lock.`,
            `if no lrw run is using ${dir}, delete ${lock}.`,
          );
        }
        const state = holderAlive(other);
        if (state !== false) throw lockedError(dir, other, state);
        clearStale(lock, text);
      }
      throw new TrainerError(
        'run-locked',
        `Run directory ${dir}: could not take its lock (other processes keep taking it).`,
        'start one run per output directory.',
      );
    } finally {
      rmSync(temp, { force: true });
    }
  }

  /** Gives the lock back (only if it is still this process's). Idempotent and synchronous. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    const now = readRunLock(this.dir);
    if (now?.pid === this.holder.pid && now.startedAt === this.holder.startedAt) {
      rmSync(this.path, { force: true });
    }
  }
}

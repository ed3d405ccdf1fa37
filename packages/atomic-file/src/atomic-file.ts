/**
 * Atomic file replacement (STYLE.md habit 5): write a temporary file in the target's folder,
 * fsync it, rename it over the target (atomic on POSIX within one file system), then fsync the
 * folder so the rename itself survives power loss. A crash at any point leaves the old file or
 * the new one, never a mix; the temporary file is removed on error. Temporary files are named
 * `.<target>.tmp-<random>` so `isTemporaryFile` can find a crash's leftovers.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What a file is written from: text (UTF-8), bytes, or byte chunks written one after another. */
export type FileContent = string | Uint8Array | readonly Uint8Array[];

export interface AtomicWriteOptions {
  /** Called after the data is synced and before the rename (tests simulate a crash here). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

const TMP_MARK = '.tmp-';

/** Whether a file name is one of this module's temporary files (a leftover after a crash). */
export function isTemporaryFile(name: string): boolean {
  return name.startsWith('.') && name.includes(TMP_MARK);
}

function temporaryPath(target: string): string {
  return join(dirname(target), `.${basename(target)}${TMP_MARK}${randomBytes(6).toString('hex')}`);
}

const chunks = (content: FileContent): readonly Uint8Array[] =>
  typeof content === 'string'
    ? [Buffer.from(content, 'utf8')]
    : content instanceof Uint8Array
      ? [content]
      : content;

/**
 * Replaces `target` atomically with `content`, or with what `write` writes into the open
 * temporary file (for large or positioned writes).
 *
 * @example
 * await writeFileAtomic('results.json', `${JSON.stringify(results)}\n`);
 */
export async function writeFileAtomic(
  target: string,
  content: FileContent | ((handle: FileHandle) => Promise<void>),
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = temporaryPath(target);
  const handle = await open(temp, 'wx');
  let closed = false;
  try {
    if (typeof content === 'function') {
      await content(handle);
    } else {
      for (const chunk of chunks(content)) await handle.write(chunk);
    }
    await handle.sync();
    await handle.close();
    closed = true;
    await options.beforeRename?.(temp);
    await rename(temp, target);
  } catch (error) {
    if (!closed) await handle.close().catch(() => {});
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
  await syncDirectory(dirname(target));
}

/** `writeFileAtomic` for synchronous callers (content only, no hook). */
export function writeFileAtomicSync(target: string, content: FileContent): void {
  const temp = temporaryPath(target);
  let fd = -1;
  try {
    fd = openSync(temp, 'wx');
    for (const chunk of chunks(content)) {
      let off = 0;
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temp, target);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  syncDirectorySync(dirname(target));
}

/**
 * Errors that mean "this platform or file system cannot fsync a folder" (Windows cannot open
 * one; some network and FUSE file systems refuse): the data is durable already, only the
 * rename might not be, so these are not failures of the write. Anything else (EIO) is.
 */
const UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM', 'EACCES']);

function unsupported(error: unknown): boolean {
  return UNSUPPORTED.has((error as { code?: string } | null)?.code ?? '');
}

/** fsyncs a folder so that a rename in it survives power loss (see `UNSUPPORTED`). */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (!unsupported(error)) throw error;
  }
}

function syncDirectorySync(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (!unsupported(error)) throw error;
  }
}

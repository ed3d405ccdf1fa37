import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Atomic file replacement (STYLE.md habit 5): write a temporary file in the same directory,
 * fsync it, rename it over the target, then fsync the directory so the rename itself is
 * durable. A crash at any point leaves either the old file or the new one, never a mix.
 * Temporary files are named `.<target>.tmp-<random>` so `isTemporaryFile` can find leftovers.
 */
export interface AtomicWriteOptions {
  /** Called after the data is synced and before the rename (tests simulate a crash here). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

const TMP_MARK = '.tmp-';

export function isTemporaryFile(name: string): boolean {
  return name.startsWith('.') && name.includes(TMP_MARK);
}

/** fsyncs a directory so a rename in it survives power loss (a no-op on Windows). */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `target` atomically; `write` receives the open temporary file and writes the content.
 * On any error the temporary file is removed and the error rethrown.
 */
export async function writeFileAtomic(
  target: string,
  write: (handle: FileHandle) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}${TMP_MARK}${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx');
  let closed = false;
  try {
    await write(handle);
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
  await syncDirectory(dir);
}

/** Atomically replaces `target` with `data`. */
export async function writeBytesAtomic(
  target: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(
    target,
    async (handle) => {
      await handle.writeFile(data);
    },
    options,
  );
}

import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// Atomic file replacement: write a temporary file beside the target, fsync it, rename it over
// the target (atomic on POSIX within one file system), then fsync the folder so the rename
// itself survives a crash. A reader sees either the old file or the complete new one.
export function writeFileAtomic(path: string, parts: readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${tmpCounter++}`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    for (const part of parts) {
      let off = 0;
      while (off < part.byteLength) off += writeSync(fd, part, off, part.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
  syncDirectory(dirname(path));
}

let tmpCounter = 0;

function syncDirectory(dir: string): void {
  // Not every platform can fsync a folder (Windows cannot open one); the data itself is
  // already durable then, only the rename might not be.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* folder fsync unsupported here */
  }
}

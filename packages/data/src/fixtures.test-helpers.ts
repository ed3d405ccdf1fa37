import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of a committed fixture. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
}

/** The shared corpora folder (../shared/data/corpora beside the repository), if present. */
export const SHARED_CORPORA = fileURLToPath(
  new URL('../../../../shared/data/corpora', import.meta.url),
);
export const HAVE_SHARED = existsSync(SHARED_CORPORA);
if (!HAVE_SHARED)
  console.warn(
    `@lrw/data tests: ${SHARED_CORPORA} is absent; tests on the shared corpora are skipped`,
  );

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'lrw-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

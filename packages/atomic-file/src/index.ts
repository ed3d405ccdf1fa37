/**
 * @lrw/atomic-file: replace a file so that a reader (or a crash) sees the old file or the whole
 * new one, never a mix. Zero dependencies (Node's fs). See README.md.
 */
export {
  type AtomicWriteOptions,
  type FileContent,
  isTemporaryFile,
  syncDirectory,
  writeFileAtomic,
  writeFileAtomicSync,
} from './atomic-file.js';

/**
 * The trainer writes every file (checkpoints, metrics, config, results, reports) through
 * @lrw/atomic-file: a temporary file, fsync, rename, folder fsync. `writeBytesAtomic` is the
 * trainer's older name for its content form; both stay exported from @lrw/trainer.
 */
export {
  type AtomicWriteOptions,
  isTemporaryFile,
  syncDirectory,
  writeFileAtomic as writeBytesAtomic,
  writeFileAtomic,
} from '@lrw/atomic-file';

export { type AtomicWriteOptions, writeBytesAtomic, writeFileAtomic } from './atomic-write.js';
export {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  type CheckpointContents,
  type NamedTensor,
  readCheckpointFile,
  writeCheckpointFile,
} from './checkpoint-file.js';
export {
  type CheckpointInfo,
  CheckpointStore,
  type CheckpointStoreOptions,
  checkpointFileName,
} from './checkpoint-store.js';
export { type Collective, checkCollective, SingleProcessCollective } from './collective.js';
export { crc32 } from './crc32.js';
export {
  checkLrScheduleConfig,
  gpt2PaperLrSchedule,
  LR_SCHEDULE_KINDS,
  type LrSchedule,
  type LrScheduleConfig,
  type LrScheduleKind,
  lrSchedule,
} from './lr-schedule.js';
export { runSimulatedRanks, simulatedCollectives } from './simulated-collective.js';
export { TrainerError, type TrainerErrorCode } from './trainer-error.js';

/** The package name, as published. */
export const packageName = '@lrw/trainer';

import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type AtomicWriteOptions, isTemporaryFile, writeBytesAtomic } from './atomic-write.js';
import {
  type CheckpointContents,
  readCheckpointFile,
  writeCheckpointFile,
} from './checkpoint-file.js';
import { TrainerError } from './trainer-error.js';

/**
 * A directory of checkpoints, one file each, named `step-<9 digits>.lrwckpt`, plus a `latest`
 * pointer (a one-line text file naming the newest complete checkpoint).
 *
 * Order of a save, chosen so a crash at any point leaves a loadable `latest`:
 *   1. write the new checkpoint atomically (temporary file, fsync, rename, fsync directory);
 *   2. replace `latest` atomically;
 *   3. only then delete checkpoints beyond the newest `keepLast`, and stale temporary files.
 * Checkpoints of steps after the one saved belong to a run that was abandoned by resuming from
 * an earlier step; they are deleted too, so rotation and `latest` stay on one timeline.
 */
export interface CheckpointStoreOptions {
  /** How many checkpoints to keep (newest first); older ones are deleted after a save. Default 3. */
  keepLast?: number;
}

export interface CheckpointInfo {
  step: number;
  path: string;
}

const NAME = /^step-(\d{9,})\.lrwckpt$/;
const LATEST = 'latest';

export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(9, '0')}.lrwckpt`;
}

export class CheckpointStore {
  readonly keepLast: number;

  constructor(
    readonly directory: string,
    options: CheckpointStoreOptions = {},
  ) {
    const keepLast = options.keepLast ?? 3;
    if (!Number.isInteger(keepLast) || keepLast < 1) {
      throw new TrainerError(
        'invalid-argument',
        `CheckpointStore: keepLast = ${String(keepLast)} is invalid.`,
        'keep at least the newest checkpoint: pass a whole number >= 1.',
      );
    }
    this.keepLast = keepLast;
  }

  /** Complete checkpoints in the directory, oldest first (temporary files are ignored). */
  async list(): Promise<CheckpointInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .map((name) => ({ name, match: NAME.exec(name) }))
      .filter((e) => e.match !== null)
      .map((e) => ({ step: Number(e.match![1]), path: join(this.directory, e.name) }))
      .sort((a, b) => a.step - b.step);
  }

  /** Saves `contents` as the checkpoint of `contents.step`, updates `latest`, rotates. */
  async save(
    contents: CheckpointContents,
    options: AtomicWriteOptions = {},
  ): Promise<CheckpointInfo> {
    await mkdir(this.directory, { recursive: true });
    const name = checkpointFileName(contents.step);
    const path = join(this.directory, name);
    await writeCheckpointFile(path, contents, options);
    await writeBytesAtomic(join(this.directory, LATEST), `${name}\n`);
    await this.rotate(contents.step);
    return { step: contents.step, path };
  }

  private async rotate(savedStep: number): Promise<void> {
    const all = await this.list();
    const kept = all.filter((c) => c.step <= savedStep);
    const doomed = [
      ...kept.slice(0, Math.max(0, kept.length - this.keepLast)),
      ...all.filter((c) => c.step > savedStep),
    ];
    for (const old of doomed) await rm(old.path, { force: true });
    for (const name of await readdir(this.directory)) {
      if (isTemporaryFile(name)) await rm(join(this.directory, name), { force: true });
    }
  }

  /** The checkpoint `latest` names, or undefined when the directory holds none. */
  async latest(): Promise<CheckpointInfo | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.directory, LATEST), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const all = await this.list();
      if (all.length === 0) return undefined;
      throw new TrainerError(
        'checkpoint-not-found',
        `Checkpoint directory ${this.directory} has checkpoints but no "${LATEST}" pointer.`,
        `load one explicitly, e.g. ${all.at(-1)!.path}, or write its file name into ${join(this.directory, LATEST)}.`,
      );
    }
    const name = text.trim();
    const match = NAME.exec(name);
    if (match === null) {
      throw new TrainerError(
        'checkpoint-corrupt',
        `${join(this.directory, LATEST)} should name a step-*.lrwckpt file but holds ${JSON.stringify(name.slice(0, 80))}.`,
        'write the file name of the checkpoint to resume from into it, or load a checkpoint by path.',
      );
    }
    return { step: Number(match[1]), path: join(this.directory, name) };
  }

  /**
   * Loads and verifies the checkpoint `latest` names; undefined when there is none. A damaged
   * file throws (never a partial load), and the error names the earlier checkpoints to try.
   */
  async loadLatest(): Promise<CheckpointContents | undefined> {
    const info = await this.latest();
    if (info === undefined) return undefined;
    try {
      return await readCheckpointFile(info.path);
    } catch (error) {
      if (!TrainerError.isInstance(error)) throw error;
      const others = (await this.list()).filter((c) => c.step !== info.step);
      if (others.length === 0) throw error;
      throw new TrainerError(
        error.code,
        error.message.split('\nHINT: ')[0]!,
        `resume from an earlier checkpoint instead: write its file name (${others
          .map((c) => c.path.slice(this.directory.length + 1))
          .join(', ')}) into ${join(this.directory, LATEST)}, then resume again.`,
        { cause: error },
      );
    }
  }

  /** Loads and verifies the checkpoint of `step`. */
  async load(step: number): Promise<CheckpointContents> {
    return readCheckpointFile(join(this.directory, checkpointFileName(step)));
  }
}

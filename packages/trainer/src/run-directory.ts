import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isTemporaryFile } from './atomic-write.js';
import { commandLine, RunLock } from './run-lock.js';
import { TrainerError } from './trainer-error.js';

/**
 * Where a run keeps its files, so the trainer, the report and the CLI agree:
 *
 *   <outputDir>/config.json         the validated config (written at the start)
 *   <outputDir>/metrics.jsonl       one record per step and per evaluation
 *   <outputDir>/results.json        final per-domain numbers (RunResults)
 *   <outputDir>/checkpoints/        step-<9 digits>.lrwckpt files and the `latest` pointer
 *   <outputDir>/report.html         the HTML report of this run
 *   <outputDir>/history.jsonl       one line per start, resume (with the changed fields) and end
 *   <outputDir>/lock                the pid and host of the process writing the run (while it runs)
 */
export interface RunPaths {
  root: string;
  config: string;
  metrics: string;
  results: string;
  checkpoints: string;
  report: string;
  history: string;
  lock: string;
}

export function runPaths(outputDir: string): RunPaths {
  return {
    root: outputDir,
    config: join(outputDir, 'config.json'),
    metrics: join(outputDir, 'metrics.jsonl'),
    results: join(outputDir, 'results.json'),
    checkpoints: join(outputDir, 'checkpoints'),
    report: join(outputDir, 'report.html'),
    history: join(outputDir, 'history.jsonl'),
    lock: join(outputDir, 'lock'),
  };
}

/**
 * Creates the run directory if needed and takes its lock (RunLock): a TrainerError names the
 * run that holds it, or says why the path cannot be a run directory (a file, no permission).
 */
export function openRunDirectory(dir: string): RunLock {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? `${existsSync(dir) ? 'it' : 'a part of its path'} is a file, not a folder`
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? `this process may not create it (${code})`
          : undefined;
    if (why === undefined) throw error;
    throw new TrainerError(
      'run-directory',
      `${dir} cannot be a run directory: ${why}.`,
      'choose another output directory (a new or existing folder).',
      { cause: error },
    );
  }
  const lock = RunLock.acquire(dir, commandLine());
  // temporary files of writes that a killed run left (config, metrics, checkpoints): under the
  // lock, nothing else is writing them
  for (const folder of [dir, join(dir, 'checkpoints')]) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      // (a lock attempt's own temporary file belongs to another process: RunLock ages those out)
      if (isTemporaryFile(name) && !name.startsWith('.lock.')) {
        rmSync(join(folder, name), { force: true });
      }
    }
  }
  return lock;
}

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * `history.jsonl` of a run directory: one line per start, resume and end of the process that
 * trained it, so a run's story (where it was interrupted, which settings a resume changed)
 * stays with the run. Lines are appended and synced; a line cut off by a killed process is
 * ignored by readers, as in metrics.jsonl.
 */
export type HistoryEvent =
  | {
      event: 'start';
      step: number;
      /** Data-parallel ranks (absent for one process); batchSize in config.json is per rank. */
      worldSize?: number;
    }
  | {
      event: 'resume';
      step: number;
      /** Config fields that differ from the checkpoint's: { field: { from, to } }. */
      changes: Record<string, { from: unknown; to: unknown }>;
    }
  | { event: 'checkpoint-skipped'; step: number; reason: string }
  | { event: 'finished'; step: number }
  | { event: 'interrupted'; step: number; signal: string; checkpoint: number | null }
  | { event: 'failed'; step: number; code: string; message: string };

export type HistoryLine = HistoryEvent & { at: string; pid: number; host: string };

/** Appends `event` (with the time, pid and host) to the history file at `path`. */
export function appendHistory(path: string, event: HistoryEvent): void {
  const line: HistoryLine = {
    ...event,
    at: new Date().toISOString(),
    pid: process.pid,
    host: hostname(),
  };
  writeSynced(openSync(path, 'a'), Buffer.from(`${JSON.stringify(line)}\n`));
}

/** Writes all of `bytes` to `fd`, fsyncs and closes it (the small files of a run directory). */
export function writeSynced(fd: number, bytes: Uint8Array): void {
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The complete lines of a history file's text (a cut-off last line is left out). */
export function parseHistory(text: string): HistoryLine[] {
  const out: HistoryLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as HistoryLine);
    } catch {
      // a line cut off by a killed process
    }
  }
  return out;
}

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeBytesAtomic } from './atomic-write.js';
import type { EvalRecord, MetricsRecord, TrainStepRecord } from './metrics-record.js';
import { TrainerError } from './trainer-error.js';

/**
 * Appends one JSON line per record to `metrics.jsonl`. Each line goes to the operating system
 * with one write() call, so a killed process loses at most the line being written; `sync()`
 * (call it with every checkpoint) makes the file durable against power loss too.
 *
 * Resuming: `MetricsWriter.open(path, { resumeAfterStep: n })` keeps the records of steps <= n
 * (the checkpoint's step) and drops later ones and any half-written last line, so a resumed
 * run's file reads as if the run had never stopped.
 */
export interface MetricsWriterOptions {
  /**
   * Resume a run whose checkpoint is at this step. Without it, an existing non-empty file is an
   * error, so a new run never appends to an old one by accident.
   */
  resumeAfterStep?: number;
}

export class MetricsWriter {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    /** On resume: the records kept (those of steps up to the checkpoint's). */
    readonly kept: readonly MetricsRecord[] = [],
  ) {
    this.fd = fd;
  }

  static async open(path: string, options: MetricsWriterOptions = {}): Promise<MetricsWriter> {
    const exists = existsSync(path) && readFileSync(path).length > 0;
    let kept: MetricsRecord[] = [];
    if (options.resumeAfterStep !== undefined) {
      if (exists) {
        const { records } = parseMetrics(readFileSync(path, 'utf8'), path);
        kept = records.filter((r) => r.step <= options.resumeAfterStep!);
        await writeBytesAtomic(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
      }
    } else if (exists) {
      throw new TrainerError(
        'metrics-file',
        `Metrics file ${path} already has records.`,
        'use a new output directory for a new run, or resume the run (its checkpoint gives the step).',
      );
    }
    return new MetricsWriter(path, openSync(path, 'a'), kept);
  }

  /** Appends one record as one line. */
  write(record: MetricsRecord): void {
    if (this.fd === undefined) {
      throw new TrainerError(
        'metrics-file',
        `Metrics file ${this.path} is closed.`,
        'open a new MetricsWriter.',
      );
    }
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    let done = 0;
    while (done < line.length) done += writeSync(this.fd, line, done);
  }

  /** fsync: the lines written so far survive power loss. */
  sync(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface ParsedMetrics {
  records: MetricsRecord[];
  train: TrainStepRecord[];
  eval: EvalRecord[];
  /** True when the last line was cut off (a run killed mid-write) and was left out. */
  truncatedLastLine: boolean;
}

/** Parses JSONL metrics text; `source` names the file in errors. */
export function parseMetrics(text: string, source = 'metrics.jsonl'): ParsedMetrics {
  const lines = text.split('\n');
  // Text that does not end in a newline ends in a line a killed writer may have cut short.
  const unterminated = lines.pop()!;
  let truncatedLastLine = false;
  if (unterminated.trim() !== '') {
    try {
      JSON.parse(unterminated);
      lines.push(unterminated);
    } catch {
      truncatedLastLine = true;
    }
  }
  const records: MetricsRecord[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new TrainerError(
        'metrics-file',
        `${source}:${index + 1} is not valid JSON: ${JSON.stringify(line.slice(0, 80))}.`,
        'each line must be one JSON object; remove or repair that line.',
      );
    }
    const r = record as { kind?: unknown; step?: unknown };
    if (
      typeof r !== 'object' ||
      r === null ||
      (r.kind !== 'train' && r.kind !== 'eval') ||
      typeof r.step !== 'number'
    ) {
      throw new TrainerError(
        'metrics-file',
        `${source}:${index + 1} is not a metrics record (needs kind "train" or "eval" and a numeric step).`,
        'pass a metrics.jsonl written by MetricsWriter.',
      );
    }
    records.push(record as MetricsRecord);
  });
  return {
    records,
    train: records.filter((r): r is TrainStepRecord => r.kind === 'train'),
    eval: records.filter((r): r is EvalRecord => r.kind === 'eval'),
    truncatedLastLine,
  };
}

/** Reads and parses a metrics.jsonl file. */
export function readMetrics(path: string): ParsedMetrics {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TrainerError(
      'metrics-file',
      `Metrics file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'pass a run directory that holds metrics.jsonl (written by the trainer).',
      { cause: error },
    );
  }
  return parseMetrics(text, path);
}

import { ProgressLine } from '../progress-line.js';

/** Where the CLI writes; tests pass their own to capture the output in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress lines redraw in place there). */
  isTTY?: boolean;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: process.stderr.isTTY === true,
};

/**
 * A usage or input error found by the CLI itself (a missing file, a flag combination): printed
 * as `lrw <command>: <message>` and `HINT: <hint>`, exit code 2 (or `exitCode`: 130 after
 * Ctrl-C, 143 after SIGTERM, as a shell reports a process ended by that signal).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The trainer's progress line (step, loss, tokens/s, ETA) printing through the CLI's stderr. */
export function progressLine(io: CliIo, totalSteps: number, label?: string): ProgressLine {
  return new ProgressLine({
    totalSteps,
    stream: { write: (text: string) => io.stderr(text), isTTY: io.isTTY === true },
    isTTY: io.isTTY === true,
    ...(label !== undefined ? { label } : {}),
  });
}

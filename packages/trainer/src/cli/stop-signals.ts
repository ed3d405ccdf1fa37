import { constants } from 'node:os';
import type { CliIo } from './io.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM for a command that trains: the first one aborts `signal`, so the
 * run finishes its step, writes a checkpoint and says where; a second one ends the process at
 * once (files are written atomically, so the latest checkpoint stays intact).
 *
 * A terminal delivers Ctrl-C to every process of the foreground group, so a child `lrw train`
 * of `lrw compare --jobs` gets it both from the terminal and from its parent a moment later:
 * a signal within `echoMs` of the first counts as the same one.
 */
export interface StopSignals {
  readonly signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM (128 + the signal number); undefined before. */
  readonly exitCode: number | undefined;
  /** Removes the handlers (the default behaviour of the signals returns). */
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 2);
}

export function stopOnSignals(
  io: Pick<CliIo, 'stderr'>,
  options: {
    /** Says what happens now (e.g. through the progress line). */
    onFirst?: (signal: NodeJS.Signals) => void;
    /** Runs just before the process exits on a second signal (e.g. passes it to children). */
    onAgain?: (signal: NodeJS.Signals) => void;
    echoMs?: number;
    /** The signals that stop the run (default SIGINT and SIGTERM). */
    signals?: readonly NodeJS.Signals[];
  } = {},
): StopSignals {
  const controller = new AbortController();
  const echoMs = options.echoMs ?? 1000;
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (first === undefined) {
      first = { signal, at: Date.now() };
      controller.abort(signal);
      if (options.onFirst) options.onFirst(signal);
      else {
        io.stderr(
          `lrw: ${signal}: stopping after the current step and writing a checkpoint (${signal === 'SIGINT' ? 'Ctrl-C' : 'send it'} again to quit at once)\n`,
        );
      }
      return;
    }
    if (Date.now() - first.at < echoMs) return;
    options.onAgain?.(signal);
    io.stderr(`lrw: ${signal} again: quitting now; the latest checkpoint is intact\n`);
    process.exit(exitCodeOf(signal));
  };
  const handlers = (options.signals ?? SIGNALS).map((s) => [s, () => handler(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return {
    signal: controller.signal,
    get exitCode() {
      return first === undefined ? undefined : exitCodeOf(first.signal);
    },
    dispose() {
      for (const [s, h] of handlers) process.off(s, h);
    },
  };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LRW_MAIN } from '../../src/cli/parallel-runs.js';
import { lrw } from './cli-harness.js';

/** The committed two-domain corpus (books, code). */
export const TINY_CORPUS = fileURLToPath(new URL('./fixtures/tiny-corpus/', import.meta.url));

/**
 * `lrw prepare` (in-process) of `source` into `out` with the byte tokenizer, no worker threads,
 * 2 validation documents per domain and no progress lines; `args` add to or override those.
 */
export function prepareByte(out: string, source = TINY_CORPUS, ...args: string[]) {
  return lrw(
    'prepare',
    '--source',
    source,
    '--out',
    out,
    '--tokenizer',
    'byte',
    '--workers',
    '0',
    '--validation-documents',
    '2',
    '-q',
    ...args,
  );
}

/** `lrw` (the built CLI) as a child process, as a user runs it. */
export interface LrwChild {
  child: ChildProcess;
  /** Resolves when it has exited, with what it printed. */
  done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
}

export function spawnLrw(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): LrwChild {
  const child = spawn(process.execPath, [LRW_MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Polls `ready` every 10 ms until it is true; rejects after `timeoutMs` naming `what`. */
export async function waitFor(
  ready: () => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const start = Date.now();
  while (!ready()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Complete train records in a run's metrics.jsonl (0 while it does not exist). */
export function trainLines(runDir: string): number {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"train"')).length;
}

/**
 * What must be identical between a straight run and an interrupted and resumed one: every
 * metrics record without its timings (tokens per second, elapsed seconds).
 */
export function metricsFingerprint(runDir: string): unknown[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const {
        tokensPerSecond: _t,
        elapsedSeconds: _e,
        ...rest
      } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
}

/** results.json without the run's wall time and its directory. */
export function resultsFingerprint(runDir: string): unknown {
  const {
    trainSeconds: _s,
    config,
    ...rest
  } = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as Record<string, unknown>;
  return { ...rest, config: { ...(config as object), outputDir: undefined } };
}

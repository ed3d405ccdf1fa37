import { readFileSync } from 'node:fs';
import { DataError } from '@lrw/data';
import { TrainerError } from '../trainer-error.js';
import { CliError } from './io.js';

/**
 * How `lrw` reports a failure. A user meets messages, never stack traces: a CliError (usage,
 * input the CLI checks itself) and the errors of the lrw packages that describe bad input (a
 * config field, a damaged shard, a task file) print their message and a HINT naming the CLI's
 * flags; a system error (a missing file, a full disk) and a resource limit (a backend buffer,
 * memory) print what failed on which path and what to do. Only an error that none of these
 * explains is a bug in lrw: it prints its stack and asks for a report.
 */

/** Errors of the lrw packages whose message describes the user's input (by name, across copies). */
const INPUT_ERRORS = new Set([
  'TheoryInputError',
  'ReweightError',
  'EvaluationError',
  'TaskConfigError',
  'UnknownTaskError',
  'DataFileError',
  'TemplateError',
  'PythonLiteralError',
  'PythonMethodError',
  'SafetensorsError',
]);

export interface CliFailure {
  text: string;
  exitCode: number;
}

function parts(e: Error & { hint?: unknown }): { message: string; hint: string | undefined } {
  const [message, ...rest] = e.message.split('\nHINT: ');
  const hint =
    typeof e.hint === 'string' ? e.hint : rest.length > 0 ? rest.join('\nHINT: ') : undefined;
  return { message: message!, hint };
}

const REPREPARE =
  'run the `lrw prepare` command that made this dataset again (the same --source, --out and options): intact shards are kept, missing or damaged ones are rebuilt.';

/** The CLI's hint for an error of a library whose own hint names library options. */
function cliHint(
  e: Error & { code?: unknown; hint?: unknown },
  hint: string | undefined,
): string | undefined {
  const { message } = parts(e);
  if (DataError.isInstance(e)) {
    switch (e.code) {
      case 'MALFORMED_JSON':
        return 'fix or remove that line, or add --skip-malformed-lines to skip (and count) lines that are not JSON objects.';
      case 'MISSING_FIELD':
        return 'name the fields with --text-field and --domain-field (dotted paths, e.g. meta.redpajama_set_name), or choose the layout with --schema (slimpajama, redpajama, dolma, text: the domain from the file name).';
      case 'SHARD_CHECKSUM':
      case 'SHARD_FORMAT':
      case 'SHARD_MISSING':
        return REPREPARE;
      case 'TOKENIZER_MISMATCH':
        return 'choose another --out, or add --force to replace that dataset (runs trained on it can then no longer resume).';
      case 'EMPTY_SOURCE':
        return 'check the --source paths: a folder is searched for .jsonl/.json/.jsonl.gz/.jsonl.zst, .txt/.md or .parquet files (force a type with jsonl:<path>, text:<path> or parquet:<path>), and a JSONL record keeps its text in "text" unless --text-field names another field.';
      case 'MISSING_PACKAGE': {
        const pkg = (e as { packageName?: string }).packageName;
        return `run \`npm install ${pkg}\`, or leave its domain out with --domains.`;
      }
      case 'UNKNOWN_DOMAIN':
        return "use the dataset's domain names (case-sensitive) in --domain-weights and --domains.";
      case 'INVALID_OPTION':
        if (/has no \w+ samples of/.test(message)) {
          return 'lower --seq-len, give that domain weight 0 in --domain-weights (training) or prepare more of its text (with --validation-documents for its validation split).';
        }
        return hint;
      default:
        return hint;
    }
  }
  if (TrainerError.isInstance(e)) {
    switch (e.code) {
      case 'too-many-bad-steps':
        return 'resume from the latest checkpoint with a lower learning rate: lrw train --out <run> --resume --lr <lower> (or a longer --lr-warmup); check the data for empty or corrupt samples; or allow more skips in a row with --guard-max-bad.';
      case 'non-finite-model':
        return 'resume from the latest checkpoint with a lower learning rate: lrw train --out <run> --resume --lr <lower> (or a longer --lr-warmup).';
      case 'checkpoint-mismatch':
        if (hint?.includes('config.json')) {
          return "resume with the run's own config: `lrw train --out <run> --resume` reads <run>/config.json. On resume only --lr, --end-lr, --lr-warmup, --r, --guard-max-bad, --guard-loss-z, --guard-grad-z, --steps, --eval-interval, --checkpoint-interval and --backend may change; for anything else start a new run with another --out.";
        }
        return hint?.replace('resume on the dataset', 'pass --data the dataset');
      case 'data':
        if (message.includes('ran out')) return 'lower --steps, or prepare more data.';
        return hint;
      default:
        return hint;
    }
  }
  return hint;
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException;
  return (
    e instanceof Error &&
    typeof x.code === 'string' &&
    /^E[A-Z0-9]+$/.test(x.code) &&
    (typeof x.syscall === 'string' || typeof x.errno === 'number')
  );
}

/** A system error as what failed, on which path, and what to do. */
function systemFailure(e: NodeJS.ErrnoException): { message: string; hint: string } {
  const path = e.path ?? (e as { dest?: string }).dest ?? '';
  const on = path ? `${path}: ` : '';
  switch (e.code) {
    case 'ENOENT':
      return {
        message: `${on}no such file or folder (${e.syscall ?? 'open'})`,
        hint: 'check the path.',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        message: `${on}permission denied (${e.syscall ?? 'access'})`,
        hint: 'check the permissions of the file and its folder, or choose another path.',
      };
    case 'EROFS':
      return { message: `${on}the file system is read-only`, hint: 'write to another folder.' };
    case 'ENOSPC':
    case 'EDQUOT':
      return {
        message: `${on}the disk is full (${e.code})`,
        hint: 'free some space, then resume with --resume: checkpoints and dataset files are written atomically, so the last complete one is intact.',
      };
    case 'EISDIR':
      return {
        message: `${on}is a folder, where a file was expected`,
        hint: 'give the path of a file.',
      };
    case 'ENOTDIR':
      return {
        message: `${on}a part of this path is a file, where a folder was expected`,
        hint: 'give the path of a folder.',
      };
    case 'EEXIST':
      return { message: `${on}already exists`, hint: 'choose another path, or remove it.' };
    case 'EMFILE':
    case 'ENFILE':
      return {
        message: `${on}too many open files (${e.code})`,
        hint: 'raise the limit (ulimit -n 4096) and try again.',
      };
    default:
      return {
        message: `${on}${e.message}`,
        hint: 'check the path and the disk; this is an error of the operating system, not of lrw.',
      };
  }
}

const BACKEND_PREFIX = /^(cpu|cpu-reference|webgpu|gpujs|cuda)[\w-]*\.\w+:/;
const OUT_OF_MEMORY =
  /Array buffer allocation failed|Invalid typed array length|Invalid array length|Maximum memory size exceeded|WebAssembly\.Memory|out of memory/i;

/** A backend's size limit or an exhausted heap: the input asked for more than the machine has. */
function resourceFailure(e: Error): { message: string; hint: string } | undefined {
  if (!(e instanceof RangeError)) return undefined;
  if (BACKEND_PREFIX.test(e.message)) {
    return {
      message: `the tensor backend cannot run this size: ${e.message}`,
      hint: 'use a smaller --batch-size, --seq-len or --model, or another --backend (cpu has no such limit).',
    };
  }
  if (OUT_OF_MEMORY.test(e.message)) {
    return {
      message: `out of memory (${e.message})`,
      hint: 'use a smaller --batch-size, --seq-len or --model; checkpoints written so far are intact (resume with --resume).',
    };
  }
  return undefined;
}

function bugReportLine(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { bugs?: string | { url?: string } };
    const bugs = typeof pkg.bugs === 'string' ? pkg.bugs : pkg.bugs?.url;
    if (bugs) return `please report it at ${bugs} with the command you ran and this output.`;
  } catch {
    // the line below without an address
  }
  return 'please report it with the command you ran and this output.';
}

/** What `lrw` prints for `e` (with `prefix`, e.g. "lrw train: ") and the exit code. */
export function describeFailure(e: unknown, prefix: string): CliFailure {
  const withHint = (message: string, hint: string | undefined, exitCode: number): CliFailure => ({
    text: `${prefix}${message}\n${hint ? `HINT: ${hint}\n` : ''}`,
    exitCode,
  });
  if (e instanceof CliError) return withHint(e.message, e.hint, e.exitCode);
  if (!(e instanceof Error) && !(typeof e === 'object' && e !== null && 'message' in e)) {
    return {
      text: `${prefix}internal error: ${String(e)}\nThis is a bug in lrw; ${bugReportLine()}\n`,
      exitCode: 1,
    };
  }
  const error = e as Error & { code?: unknown; hint?: unknown };
  if (
    TrainerError.isInstance(error) ||
    DataError.isInstance(error) ||
    INPUT_ERRORS.has(error.name)
  ) {
    const { message, hint } = parts(error);
    return withHint(message, cliHint(error, hint), 1);
  }
  if (isSystemError(error)) {
    const { message, hint } = systemFailure(error);
    return withHint(message, hint, 1);
  }
  const resource = resourceFailure(error);
  if (resource) return withHint(resource.message, resource.hint, 1);
  return {
    text: `${prefix}internal error: ${error.stack ?? error.message}\nThis is a bug in lrw, not a problem with your input; ${bugReportLine()}\n`,
    exitCode: 1,
  };
}

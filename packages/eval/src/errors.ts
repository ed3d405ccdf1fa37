/**
 * Errors of @lrw/eval for bad input: a task YAML, a data file, a template, a request the model
 * cannot score. Each has a machine-readable `code` and says what was wrong and where; `hint`
 * (also appended to the message as `HINT: ...`) says what to do. Programming errors (a seed
 * that is not an integer, a scorer returning the wrong number of rows) stay TypeError and
 * RangeError.
 *
 * `EvaluationError.isInstance` checks a marker symbol, so it works across two installed copies of
 * the package, where `instanceof` would not.
 */
const MARKER = Symbol.for('@lrw/eval/EvaluationError');

export type EvaluationErrorCode =
  | 'TASK_CONFIG'
  | 'UNKNOWN_TASK'
  | 'DATA_FILE'
  | 'NO_GOLD'
  | 'TEMPLATE'
  | 'PYTHON_VALUE'
  | 'REQUEST_TOO_LONG';

export class EvaluationError extends Error {
  readonly [MARKER] = true;
  override name = 'EvaluationError';
  readonly hint: string | undefined;

  constructor(
    readonly code: EvaluationErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(options.hint ? `${message}\nHINT: ${options.hint}` : message, { cause: options.cause });
    this.hint = options.hint;
  }

  static isInstance(error: unknown): error is EvaluationError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/** A bad task YAML, or a task that cannot run with the files given. */
export class TaskConfigError extends EvaluationError {
  override name = 'TaskConfigError';
  constructor(message: string, options: { hint?: string; code?: EvaluationErrorCode } = {}) {
    super(options.code ?? 'TASK_CONFIG', message, options);
  }
}

/** A task name that is neither built in nor a YAML path; `suggestions` are the nearest names. */
export class UnknownTaskError extends TaskConfigError {
  override name = 'UnknownTaskError';
  constructor(
    readonly task: string,
    readonly suggestions: readonly string[],
    builtin: readonly string[],
  ) {
    super(
      `unknown task '${task}'${suggestions.length ? `; did you mean ${suggestions.join(', ')}?` : ''}`,
      {
        code: 'UNKNOWN_TASK',
        hint: `built-in tasks are ${builtin.join(', ')}; or give the path of a task YAML (ending in .yaml).`,
      },
    );
  }
}

/** A file that cannot be read as the rows of a split. */
export class DataFileError extends EvaluationError {
  override name = 'DataFileError';
  constructor(message: string, options: { hint?: string } = {}) {
    super('DATA_FILE', message, options);
  }
}

/**
 * Up to `max` of `names` nearest to `name`: edit distance (with transpositions) at most a quarter
 * of the longer name (at least 1), or `name` a prefix of them; nearest first, then by name.
 */
export function nearestNames(name: string, names: readonly string[], max = 3): string[] {
  const scored: { n: string; d: number }[] = [];
  for (const n of names) {
    const d = editDistance(name.toLowerCase(), n.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(name.length, n.length) / 4));
    if (d <= limit) scored.push({ n, d });
    else if (name.length >= 2 && n.toLowerCase().startsWith(name.toLowerCase())) {
      scored.push({ n, d: limit + 1 });
    }
  }
  scored.sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return scored.slice(0, max).map((s) => s.n);
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  // d[i][j] = distance between a[:i] and b[:j]; three rows suffice for the swap rule.
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = new Array<number>(n + 1);
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        cur[j] = Math.min(cur[j]!, prev2[j - 2]! + 1);
      }
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n]!;
}

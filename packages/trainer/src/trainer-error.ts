/**
 * The one error class of @lrw/trainer. Every message says what was wrong and where (file,
 * field, step); `hint` says what to do about it (llm.c's HINT habit, STYLE.md habit 4).
 *
 * `TrainerError.isInstance` checks a marker symbol rather than the prototype, so it still works
 * when two copies of the package are installed (the Vercel AI SDK pattern).
 */
export type TrainerErrorCode =
  | 'invalid-config'
  | 'config-file'
  | 'invalid-argument'
  | 'checkpoint-not-found'
  | 'checkpoint-truncated'
  | 'checkpoint-corrupt'
  | 'checkpoint-version'
  | 'checkpoint-write'
  | 'too-many-bad-steps'
  | 'metrics-file'
  | 'report-input'
  | 'collective'
  | 'checkpoint-mismatch'
  | 'data'
  | 'backend'
  | 'run-locked'
  | 'run-directory'
  | 'interrupted'
  | 'non-finite-model';

const marker = Symbol.for('@lrw/trainer/TrainerError');

export class TrainerError extends Error {
  readonly [marker] = true;
  override readonly name = 'TrainerError';

  constructor(
    readonly code: TrainerErrorCode,
    message: string,
    /** What to do about it, printed after the message as `HINT: ...`. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(hint === undefined ? message : `${message}\nHINT: ${hint}`, options);
  }

  static isInstance(value: unknown): value is TrainerError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}

const MARKER = Symbol.for('lrw.mpi.error');

/** Why an MPI operation could not run. */
export type MpiErrorCode =
  /** The addon is not built or libmpi cannot be loaded. */
  | 'mpi-unavailable'
  /** MPI is not initialised, or already finalized. */
  | 'mpi-not-ready'
  /** An MPI call returned an error. */
  | 'mpi-error'
  /** A bad argument (not a Float32Array or Float64Array, a root that is not a rank). */
  | 'invalid-argument'
  /**
   * The launcher started this process as one rank of several, but MPI sees another world (the
   * addon was built against another MPI implementation than the launcher's).
   */
  | 'launcher-mismatch';

/**
 * The one error class of @lrw/mpi: a message that says what went wrong and a `hint` that says
 * what to do. `MpiError.isInstance` works across duplicate installs of the package.
 */
export class MpiError extends Error {
  readonly [MARKER] = true;
  override readonly name = 'MpiError';

  constructor(
    readonly code: MpiErrorCode,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}\nHINT: ${hint}`, options);
  }

  static isInstance(error: unknown): error is MpiError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

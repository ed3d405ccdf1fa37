const UNSUPPORTED_MARKER = Symbol.for('@lrw/tensor.UnsupportedOpError');

/**
 * A backend cannot run `op` for `dtype`. Thrown by backends (missing kernel) and by ops
 * (dtype outside what the op is defined for). `isInstance` works across duplicate installs.
 */
export class UnsupportedOpError extends Error {
  readonly [UNSUPPORTED_MARKER] = true;
  override readonly name = 'UnsupportedOpError';
  constructor(
    readonly op: string,
    readonly dtype: string,
    readonly backend: string,
    hint?: string,
  ) {
    super(
      `op '${op}' is not supported for dtype '${dtype}' on backend '${backend}'` +
        (hint ? `: ${hint}` : ''),
    );
  }

  static isInstance(e: unknown): e is UnsupportedOpError {
    return typeof e === 'object' && e !== null && UNSUPPORTED_MARKER in e;
  }
}

const DISPOSED_MARKER = Symbol.for('@lrw/tensor.DisposedTensorError');

/** A tensor was used after `dispose()` (directly, by `tidy`, or by a `using` block). */
export class DisposedTensorError extends Error {
  readonly [DISPOSED_MARKER] = true;
  override readonly name = 'DisposedTensorError';
  constructor(description: string, where: string) {
    super(
      `${where}: tensor ${description} was already disposed; keep it alive with keep(t) or ` +
        'return it from tidy(), or clone() it before disposing the original',
    );
  }

  static isInstance(e: unknown): e is DisposedTensorError {
    return typeof e === 'object' && e !== null && DISPOSED_MARKER in e;
  }
}

const LEAK_MARKER = Symbol.for('@lrw/tensor.LeakError');

/** Thrown by `assertNoLeaks` when a function leaves tensors or buffers alive. */
export class LeakError extends Error {
  readonly [LEAK_MARKER] = true;
  override readonly name = 'LeakError';
  constructor(
    message: string,
    readonly leakedTensors: number,
    readonly leakedBuffers: number,
  ) {
    super(message);
  }

  static isInstance(e: unknown): e is LeakError {
    return typeof e === 'object' && e !== null && LEAK_MARKER in e;
  }
}

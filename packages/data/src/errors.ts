// Error types of @lrw/data. Each says what was wrong, where (file, line, field) and how to fix
// it (STYLE.md habit 4). A marker symbol makes `DataError.isInstance` work across duplicate
// installs of the package, where `instanceof` would fail.
const MARKER = Symbol.for('@lrw/data/DataError');

/** Machine-readable kind of a {@link DataError}. */
export type DataErrorCode =
  | 'MALFORMED_JSON'
  | 'MISSING_FIELD'
  | 'SHARD_CHECKSUM'
  | 'SHARD_FORMAT'
  | 'SHARD_MISSING'
  | 'EMPTY_SOURCE'
  | 'TOKENIZER_MISMATCH'
  | 'UNKNOWN_DOMAIN'
  | 'MISSING_PACKAGE'
  | 'INVALID_OPTION'
  | 'STATE_MISMATCH'
  | 'UNSUPPORTED_INPUT';

/** Base class of every error thrown by @lrw/data for bad input. */
export class DataError extends Error {
  readonly [MARKER] = true;
  readonly code: DataErrorCode;
  /** What to do about it, when there is something to do. */
  readonly hint: string | undefined;

  constructor(
    code: DataErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(options.hint ? `${message}\nHINT: ${options.hint}` : message, { cause: options.cause });
    this.name = 'DataError';
    this.code = code;
    this.hint = options.hint;
  }

  static isInstance(error: unknown): error is DataError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/** A JSONL line that is not valid JSON (or not an object). */
export class MalformedJsonLineError extends DataError {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super('MALFORMED_JSON', `${file}:${line}: malformed JSON line (${detail})`, {
      hint: "fix or remove the line, or pass onMalformedLine: 'skip' on this source to skip and count such lines",
    });
    this.name = 'MalformedJsonLineError';
  }
}

/** A record without the configured text or domain field. */
export class MissingFieldError extends DataError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly fieldPath: string,
    readonly availableFields: readonly string[],
    detail = 'not found',
  ) {
    super(
      'MISSING_FIELD',
      `${file}:${line}: field "${fieldPath}" ${detail}; the record has the fields: ${
        availableFields.length > 0 ? availableFields.join(', ') : '(none)'
      }`,
      {
        hint: 'set textField / domainField on the source to one of those fields, or give the source a fixed `domain`',
      },
    );
    this.name = 'MissingFieldError';
  }
}

/** A shard (or the dataset index) whose bytes do not match its recorded checksum. */
export class ShardChecksumError extends DataError {
  constructor(
    readonly file: string,
    readonly expected: number,
    readonly actual: number,
    /** What the file is, for the message: a shard (default) or the dataset index. */
    what: 'shard' | 'dataset index' = 'shard',
  ) {
    super(
      'SHARD_CHECKSUM',
      `${file}: checksum mismatch (header 0x${hex(expected)}, data 0x${hex(actual)}): the ${what} is corrupted`,
      {
        hint:
          what === 'shard'
            ? 'run prepare() again into this folder with the same options: intact shards are kept, this one is rebuilt'
            : 'run prepare() again into this folder with the same options: intact shards are kept and the index is rewritten',
      },
    );
    this.name = 'ShardChecksumError';
  }
}

/** A shard that the dataset index lists but that is not there (deleted, or never copied). */
export class ShardMissingError extends DataError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super('SHARD_MISSING', `${file}: the dataset index lists this shard, but ${detail}`, {
      hint: 'copy the whole dataset folder, or run prepare() again into it with the same options: intact shards are kept, missing ones rebuilt',
    });
    this.name = 'ShardMissingError';
  }
}

/** A shard or index file that is truncated, of another format or of an unknown version. */
export class ShardFormatError extends DataError {
  constructor(
    readonly file: string,
    detail: string,
    hint = 'the file is truncated or was not written by @lrw/data prepare(); run prepare() again into this folder with the same options (intact shards are kept)',
  ) {
    super('SHARD_FORMAT', `${file}: ${detail}`, { hint });
    this.name = 'ShardFormatError';
  }
}

/** A domain name that the dataset does not have. */
export class UnknownDomainError extends DataError {
  constructor(
    readonly domain: string,
    readonly knownDomains: readonly string[],
    where = 'mixture',
  ) {
    super(
      'UNKNOWN_DOMAIN',
      `unknown domain "${domain}" in ${where}; known domains: ${knownDomains.join(', ')}`,
      { hint: 'use one of the known domain names (they are case-sensitive)' },
    );
    this.name = 'UnknownDomainError';
  }
}

/** An optional corpus package that is not installed. */
export class MissingPackageError extends DataError {
  constructor(
    readonly packageName: string,
    readonly domain: string,
  ) {
    super(
      'MISSING_PACKAGE',
      `the default corpus domain "${domain}" needs the npm package "${packageName}", which is not installed`,
      {
        hint: `run \`npm install ${packageName}\` (it is an optional dependency of @lrw/data, left out by --omit=optional), or leave "${domain}" out of defaultCorpus({ domains })`,
      },
    );
    this.name = 'MissingPackageError';
  }
}

/** An option value that cannot work. */
export function invalidOption(name: string, value: unknown, expected: string): DataError {
  return new DataError(
    'INVALID_OPTION',
    `invalid option ${name}: ${describe(value)}; expected ${expected}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  try {
    return JSON.stringify(value).slice(0, 120);
  } catch {
    return typeof value;
  }
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

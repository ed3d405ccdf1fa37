/**
 * The one error type of `@lrw/strategies`. Every message says what was wrong, where (the option
 * or the index of the offending loss) and how to fix it.
 *
 * `ReweightError.isInstance` works across duplicate installs of the package (a marker symbol
 * from the global registry, as in the Vercel AI SDK), where `instanceof` would not.
 */
const marker = Symbol.for('@lrw/strategies.ReweightError');

export type ReweightErrorCode =
  | 'empty-losses'
  | 'non-finite-loss'
  | 'invalid-temperature'
  | 'invalid-option'
  | 'unknown-strategy'
  | 'invalid-step'
  | 'invalid-state'
  | 'shape-mismatch';

export class ReweightError extends Error {
  readonly code: ReweightErrorCode;
  readonly [marker] = true;

  constructor(code: ReweightErrorCode, message: string) {
    super(message);
    this.name = 'ReweightError';
    this.code = code;
  }

  static isInstance(value: unknown): value is ReweightError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}

/** Throws unless `r` is a usable temperature: a number > 0 (Infinity means uniform weights). */
export function checkTemperature(r: number, where = 'r'): void {
  if (typeof r !== 'number' || Number.isNaN(r) || r <= 0) {
    throw new ReweightError(
      'invalid-temperature',
      `${where} = ${String(r)} is not a valid temperature: use a number > 0 (the paper uses ` +
        '0.4 or 1; Infinity gives uniform weights).',
    );
  }
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(value: number, where: string, hint: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ReweightError(
      'invalid-option',
      `${where} = ${String(value)} must be a finite number > 0; ${hint}`,
    );
  }
}

export function checkNotEmpty(n: number, where = 'losses'): void {
  if (n === 0) {
    throw new ReweightError(
      'empty-losses',
      `${where} is empty: pass at least one per-sample loss.`,
    );
  }
}

export function nonFiniteLossError(where: string, index: number, value: number): ReweightError {
  return new ReweightError(
    'non-finite-loss',
    `${where}[${index}] = ${String(value)} is not a finite loss: fix it, mark the sample ` +
      "inactive (option 'active'), or pass nonFinite: 'zero' to give it weight 0.",
  );
}

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
  declare readonly code: ReweightErrorCode;
  readonly [marker] = true;

  constructor(code: ReweightErrorCode, message: string) {
    super(message);
    this.name = 'ReweightError';
    this.code = code;
  }

  static isInstance(value: unknown): value is ReweightError {
    return (value as { [marker]?: unknown } | null | undefined)?.[marker] === true;
  }
}

/** A value as a message shows it: strings quoted, so r = "0.4" is not read as the number. */
export const show = (value: unknown) =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

/**
 * Throws unless `r` is a usable temperature: a number > 0 (Infinity means uniform weights), and
 * finite when `finite` (the end points of an anneal).
 */
export function checkTemperature(r: number, where = 'r', finite?: boolean): void {
  if (typeof r !== 'number' || !(r > 0) || (finite && r === Infinity)) {
    throw new ReweightError(
      'invalid-temperature',
      `${where} = ${show(r)} is not a valid temperature: use a number > 0` +
        (finite ? ', finite in an anneal.' : ' (Infinity: uniform weights).'),
    );
  }
}

/** Throws unless `value` is a finite number > 0; the message gives the default. */
export function checkPositive(value: number, where: string, fallback: number): void {
  if (typeof value !== 'number' || !(value > 0 && value < Infinity)) {
    throw new ReweightError(
      'invalid-option',
      `${where} = ${show(value)} must be a finite number > 0 (default ${fallback}).`,
    );
  }
}

/** Throws unless `array` is a non-empty array of numbers (any array-like); returns its length. */
export function checkNotEmpty(array: ArrayLike<unknown>, where = 'losses'): number {
  const n = (array as { length?: number } | null)?.length;
  if (!(n! > 0)) {
    throw new ReweightError(
      n === 0 ? 'empty-losses' : 'invalid-option',
      `${where} is ${n === 0 ? 'empty' : 'not an array'}: pass an array of at least one loss.`,
    );
  }
  return n!;
}

/** Throws a 'shape-mismatch' error unless `array` has `n` entries, like `other`. */
export function checkLength(
  array: ArrayLike<unknown>,
  where: string,
  n: number,
  other: string,
  fix: string,
): void {
  if (array.length !== n) {
    throw new ReweightError(
      'shape-mismatch',
      `${where} has ${array.length} entries but ${other} has ${n}: ${fix}`,
    );
  }
}

export function nonFiniteLossError(where: string, index: number, value: number): ReweightError {
  return new ReweightError(
    'non-finite-loss',
    `${where}[${index}] = ${value} is not a finite loss: fix it, or give it weight 0 with ` +
      "option 'active' or nonFinite: 'zero'.",
  );
}

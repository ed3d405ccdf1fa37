const marker = Symbol.for('@lrw/theory/TheoryInputError');

/**
 * Bad input to a calculator: names the field, the value and how to fix it. A theorem
 * hypothesis that fails (step size too large, cap broken) is NOT an error: calculators report
 * it in `conditions` instead.
 */
export class TheoryInputError extends Error {
  readonly [marker] = true;
  readonly field: string;

  constructor(field: string, message: string) {
    super(`@lrw/theory: ${field}: ${message}`);
    this.name = 'TheoryInputError';
    this.field = field;
  }

  /** True for a TheoryInputError, even one from a duplicate install of the package. */
  static isInstance(value: unknown): value is TheoryInputError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}

export function requirePositive(field: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new TheoryInputError(field, `must be a finite number > 0, got ${String(value)}`);
  }
}

export function requireNonNegative(field: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new TheoryInputError(field, `must be a finite number >= 0, got ${String(value)}`);
  }
}

export function requireFiniteArray(
  field: string,
  values: ArrayLike<number>,
  length?: number,
): void {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new TheoryInputError(field, 'must be an array of numbers');
  }
  if (length !== undefined && values.length !== length) {
    throw new TheoryInputError(
      field,
      `has length ${values.length} but must have length ${length} (one entry per sample of the step)`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new TheoryInputError(`${field}[${i}]`, `must be finite, got ${String(values[i])}`);
    }
  }
}

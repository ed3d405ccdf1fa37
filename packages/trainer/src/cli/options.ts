import { InvalidArgumentError } from 'commander';

/**
 * Value parsers for commander options. Each throws commander's InvalidArgumentError, which
 * commander prints as `error: option '--steps <n>' argument 'x' is invalid. <our message>`, so the
 * message says what to type instead.
 */

export function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`Use an integer >= ${min}, e.g. ${Math.max(min, 1) * 100}.`);
    }
    return n;
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) {
    throw new InvalidArgumentError('Use a number > 0, e.g. 0.5 or 1e-3.');
  }
  return n;
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('Use a finite number, e.g. 0.25.');
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0 && n < 1)) {
    throw new InvalidArgumentError('Use a number in [0, 1), e.g. 0.05.');
  }
  return n;
}

/** Bytes with an optional K/M/G suffix (powers of 1024): "256K", "2M", "1048576". */
export function byteSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(value.trim());
  const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  const n = m ? Number(m[1]) * units[m[2]!.toLowerCase()]! : Number.NaN;
  if (!(Number.isFinite(n) && n > 0)) {
    throw new InvalidArgumentError(
      'Use a size in bytes with an optional K/M/G suffix, e.g. 256K or 2M.',
    );
  }
  return Math.round(n);
}

/** A comma-separated list; repeated options append. */
export function list(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return [...(previous ?? []), ...items];
}

/** A comma-separated list of integers, e.g. seeds "0,1,2" (or a count "3" meaning 0,1,2 via seedList). */
export function integerList(value: string, previous: number[] | undefined): number[] {
  const items = list(value, undefined).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`"${s}" is not an integer >= 0; use e.g. 0,1,2.`);
    }
    return n;
  });
  return [...(previous ?? []), ...items];
}

/** A choice among `allowed`, with the closest one suggested. */
export function choice<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    const near = closest(value, allowed);
    throw new InvalidArgumentError(
      `Use one of ${allowed.join(', ')}${near ? ` (did you mean ${near}?)` : ''}.`,
    );
  };
}

/** The allowed value nearest to `value` by edit distance, if it is close (at most 40% edits). */
export function closest(value: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const a of allowed) {
    const d = editDistance(value.toLowerCase(), a.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = a;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length * 0.4))
    ? best
    : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
}

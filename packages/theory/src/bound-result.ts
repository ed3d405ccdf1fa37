/** A hypothesis of a theorem, checked on the given inputs. */
export interface Condition {
  /** Short name: 'step size', 'simplex', 'weight cap', 'nonnegative gaps', ... */
  readonly name: string;
  readonly holds: boolean;
  /** Why it holds or fails, with the numbers (e.g. 'eta*c*L = 1.2 >= 1; use eta < 0.083'). */
  readonly reason: string;
}

/** What every calculator returns. */
export interface BoundResult<Terms extends Record<string, number> = Record<string, number>> {
  /** Which result: 'theorem1-capped', 'theorem3-sgd-cap-free', 'theorem4-nonconvex-sgd', ... */
  readonly result: string;
  /** The quantity bounded, in words. */
  readonly bounds: string;
  /**
   * The bound. It is a guarantee only when `valid` is true; when a step-size condition fails
   * the formula's denominator is not positive and `bound` is NaN.
   */
  readonly bound: number;
  /** The separate terms; `bound` is their sum. */
  readonly terms: Terms;
  readonly conditions: readonly Condition[];
  /** Every condition holds. */
  readonly valid: boolean;
  /** The same result with uniform weights (reweighting term 0): the classical bound. */
  readonly uniformBound: number;
}

export function condition(name: string, holds: boolean, reason: string): Condition {
  return { name, holds, reason };
}

export function allHold(conditions: readonly Condition[]): boolean {
  return conditions.every((c) => c.holds);
}

/** Formats a number for a condition's reason. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

/** The shape of a conformance case (see op-cases.ts). */
import type { Tensor } from '../index.js';
import type { Tolerance } from '../op-table.js';
import type * as R from './reference64.js';

export interface InputSpec {
  shape: number[];
  dtype?: 'float32' | 'int32';
  /** normal (default), positive (0.5..2), index (0..high-1), mask (0/1), or explicit values. */
  kind?: 'normal' | 'positive' | 'index' | 'mask';
  high?: number;
  values?: number[];
  /** Whether the gradient of this input is checked (default: float32 inputs of differentiable cases). */
  grad?: boolean;
}

export interface OpCase {
  /** Op-table name, or the name of a composition (e.g. 'mean'). */
  op: string;
  label: string;
  inputs: InputSpec[];
  run(xs: Tensor[], backend: string): Tensor;
  ref(xs: R.Arr64[]): R.Arr64;
  /** Overrides the op table's forward tolerance. */
  tolerance?: Tolerance;
  /** False when the op has no gradient to check. Default true. */
  grad?: boolean;
}

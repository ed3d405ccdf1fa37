/**
 * Conformance cases: each names an op-table entry (or a composition built on them), its inputs,
 * how to call it, and its float64 reference. The suite runs forward and finite-difference
 * gradient checks from these on any backend; `conformanceChecks` fails if an op-table entry has
 * no case, so a new op cannot ship untested.
 */

import type { OpCase } from './op-case-types.js';
import { MATH_CASES } from './op-cases-math.js';
import { NN_CASES } from './op-cases-nn.js';

export type { InputSpec, OpCase } from './op-case-types.js';

/** Every conformance case. */
export const OP_CASES: OpCase[] = [...MATH_CASES, ...NN_CASES];

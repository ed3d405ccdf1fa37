/** `@lrw/tensor/testing`: the shared conformance suite, float64 references and gradient checks. */
export {
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
  caseInputs,
  conformanceChecks,
  finiteDifferenceGradient,
  runConformanceSuite,
} from './conformance.js';
export { type InputSpec, OP_CASES, type OpCase } from './op-cases.js';
export type { Arr64 } from './reference64.js';
export * as reference64 from './reference64.js';

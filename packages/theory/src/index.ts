/**
 * @lrw/theory: convergence-bound calculators for the loss-reweighting results (Theorems 1, 3
 * and 4 and Proposition 1, numbered as in the paper; our cap-free forms and a non-convex
 * alignment form with its full-batch corollary), their numerical verification, rho estimates for real training, and the
 * regression-with-outliers experiment. Spec: shared/spec/theory.md; derivations:
 * docs/derivations.md.
 */
export type { BoundResult, Condition } from './bound-result.js';
export {
  classicalConvexBound,
  classicalGrowthBound,
  classicalHeavyBallBound,
  classicalNonConvexBound,
  samplingVarianceFactor,
} from './classical.js';
export {
  type CapFreeScalars,
  type CappedScalars,
  type ConvexTerms,
  capFreeFormula,
  capFreeKappa,
  cappedFormula,
  type HeavyBallScalars,
  heavyBallFormula,
} from './convex-formulas.js';
export { TheoryInputError } from './errors.js';
export {
  type CapStats,
  DEFAULT_CONFIG as DEFAULT_REGRESSION_CONFIG,
  DEFAULT_STRATEGIES as DEFAULT_REGRESSION_STRATEGIES,
  type MeanStd,
  REGRESSION_SETUPS,
  type RegressionConfig,
  type RegressionResult,
  type RegressionRun,
  runRegressionExperiment,
  SCALED_TARGETS_CONFIG,
  type SettingResult,
  type StrategySetting,
  type StrategySummary,
  trainRegression,
} from './experiment/regression.js';
export {
  DEFAULT_DATA as DEFAULT_REGRESSION_DATA,
  makeRegressionData,
  type RegressionData,
  type RegressionDataOptions,
  SCALED_TARGETS_DATA,
  testMse,
} from './experiment/regression-data.js';
export { formatSummary as formatRegressionSummary } from './experiment/summary-table.js';
export { regressionSvg } from './experiment/svg-plot.js';
export {
  type AlignmentStep,
  type NonConvexBoundInput,
  type NonConvexScalars,
  type NonConvexTerms,
  nonConvexBound,
  nonConvexFormula,
} from './nonconvex.js';
export {
  klRegularizedObjective,
  type OptimalKlOptions,
  type OptimalKlWeights,
  optimalKlWeights,
} from './proposition1.js';
export { SeededRandom } from './random.js';
export {
  RHO_HAT_SIMPLEX_TOLERANCE,
  RunningAverage,
  type RunningAverageState,
  rhoHat,
} from './rho-hat.js';
export { requireSimplex, SIMPLEX_TOLERANCE } from './simplex.js';
export {
  type CappedBoundInput,
  type ConvexBoundInput,
  type ConvexBoundResult,
  theorem1CapFree,
  theorem1Capped,
} from './theorem1.js';
export {
  type HeavyBallInput,
  type HeavyBallStep,
  heavyBallFromMomentum,
  theorem2HeavyBall,
  theorem2SgdCapFree,
  theorem2SgdCapped,
  theorem3HeavyBall,
  theorem3SgdCapFree,
  theorem3SgdCapped,
} from './theorem3.js';
export {
  type GradientNormStep,
  type Theorem4Input,
  type Theorem4Scalars,
  type Theorem4Terms,
  theorem4Formula,
  theorem4NonConvexSgd,
} from './theorem4.js';
export {
  type CheckResult,
  checkConvexTrace,
  checkEveryT,
  checkHeavyBallTrace,
  checkNonConvexTrace,
  checkTheorem4Trace,
  emptyCheck,
  mergeChecks,
  mutateTerm,
  VERIFICATION_TOLERANCE,
} from './verification/check.js';
export {
  type ConvexFamily,
  type ConvexFamilyInstance,
  convexFamilyInstance,
  fixedRule,
  halfRule,
  type NonConvexFamily,
  type NonConvexFamilyInstance,
  nonConvexFamilyInstance,
  oneHotRule,
} from './verification/families.js';
export {
  type InterpolatingProblem,
  type NonConvexProblem,
  quadraticProblemWithOffsets,
  randomInterpolatingProblem,
  randomNonConvexProblem,
} from './verification/problems.js';
export {
  type ConvexInstance,
  type NonConvexInstance,
  randomConvexInstance,
  randomNonConvexInstance,
  randomWeightRule,
} from './verification/random-instances.js';
export {
  type ConvexTrace,
  type NonConvexStep,
  type NonConvexTrace,
  runConvex,
  runNonConvex,
  type WeightRule,
} from './verification/runners.js';
export { reweightingTerm, type WeightedStep } from './weight-history.js';

/**
 * @lrw/strategies: loss-based per-sample weights (Sow et al., ICLR 2025) for any trainer.
 * Zero dependencies. Spec: shared/spec/reweighting.md.
 *
 * Two more entries: `@lrw/strategies/distributed` (rankWeightSlice, rankLossCoefficients,
 * accumulationCoefficients) and `@lrw/strategies/per-sample-loss` (perSampleLoss).
 */
export { computeWeights, type WeightOptions } from './compute-weights.js';
export { ReweightError, type ReweightErrorCode } from './errors.js';
export type { InclusionOptions } from './inclusion.js';
export { type NormalizeOptions, normalizeLosses } from './normalize.js';
export {
  Reweighter,
  type ReweighterOptions,
  type ReweighterResult,
  type ReweighterState,
  type ReweighterTotals,
} from './reweighter.js';
export {
  type AnnealOptions,
  constantTemperature,
  cosineTemperature,
  exponentialTemperature,
  linearTemperature,
  plainMeanWarmup,
  stepTemperature,
  type TemperatureSchedule,
  type TemperatureScheduleConfig,
  temperatureSchedule,
} from './schedules.js';
export {
  type ScoreFunction,
  STRATEGIES,
  STRATEGY_NAMES,
  type Strategy,
  type StrategyDescriptor,
  type StrategyName,
  strategyScores,
} from './strategies.js';
export { temperatureSoftmax } from './temperature-softmax.js';
export { type WeightStats, weightStats } from './weight-stats.js';

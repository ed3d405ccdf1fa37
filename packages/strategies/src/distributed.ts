/**
 * `@lrw/strategies/distributed`: data parallelism and gradient accumulation (spec section 5).
 * A separate entry so the main one stays small for trainers that need neither.
 */
export {
  type AccumulationNormalization,
  type AccumulationOptions,
  accumulationCoefficients,
} from './accumulation.js';
export {
  type RankOptions,
  type RankSlice,
  rankLossCoefficients,
  rankWeightSlice,
} from './data-parallel.js';

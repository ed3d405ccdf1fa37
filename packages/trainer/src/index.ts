export { AdamW, type AdamWOptions, type AdamWState, isDecayed } from './adamw.js';
export { type AtomicWriteOptions, writeBytesAtomic, writeFileAtomic } from './atomic-write.js';
export { loadTrainerBackend, modelBackend } from './backend.js';
export {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  type CheckpointContents,
  type NamedTensor,
  readCheckpointFile,
  writeCheckpointFile,
} from './checkpoint-file.js';
export {
  type CheckpointInfo,
  CheckpointStore,
  type CheckpointStoreOptions,
  checkpointFileName,
} from './checkpoint-store.js';
export { type Collective, checkCollective, SingleProcessCollective } from './collective.js';
export {
  defaultTemperature,
  defaultTrainerConfig,
  loadTrainerConfig,
  METHODS,
  type Method,
  parseTrainerConfig,
  type TemperatureConfig,
  TRAINER_BACKENDS,
  type TrainerBackend,
  type TrainerConfig,
  type TrainerConfigInput,
  trainerConfigSchema,
} from './config.js';
export { crc32, crc32Js } from './crc32.js';
export { hasSlimPajamaDomains, streamMixture } from './data-mixture.js';
export {
  normalizeDomainWeights,
  SLIMPAJAMA_DOMAINS,
  STATIC_DOMAIN_MIXTURES,
  type StaticMixtureName,
} from './domain-mixtures.js';
export {
  alignmentScores,
  averageWeights,
  DOGE_DEFAULTS,
  DOREMI_DEFAULTS,
  dogeUpdate,
  doremiUpdate,
  excessLosses,
  exponentiatedGradientStep,
} from './domain-updates.js';
export { checkWeightsFitDomains, readDomainWeightsFile } from './domain-weights-file.js';
export { evalRecord, evaluateModel, ModelScorer } from './evaluate.js';
export {
  clipGradNorm,
  clipGradNormAsync,
  globalGradNorm,
  globalGradNormAsync,
} from './grad-clip.js';
export { escapeHtml } from './html-escape.js';
export {
  type DomainWeightTrajectory,
  type ReportOptions,
  renderReport,
  writeReport,
} from './html-report.js';
export {
  checkLrScheduleConfig,
  gpt2PaperLrSchedule,
  LR_SCHEDULE_KINDS,
  type LrSchedule,
  type LrScheduleConfig,
  type LrScheduleKind,
  lrSchedule,
} from './lr-schedule.js';
export type {
  EvalRecord,
  MetricsRecord,
  SkipReason,
  TrainStepRecord,
  WeightStatsRecord,
} from './metrics-record.js';
export {
  MetricsWriter,
  type MetricsWriterOptions,
  type ParsedMetrics,
  parseMetrics,
  readMetrics,
} from './metrics-writer.js';
export { resolveModelConfig, TRAINER_MODELS } from './model-presets.js';
export { detectLauncher, MpiCollective } from './mpi-collective.js';
export {
  type DomainReweighter,
  type DomainReweighterState,
  type DomainReweightingConfig,
  type DomainWeightsFile,
  loadReferenceModel,
  OnlineDomainReweighter,
} from './online-domain-weights.js';
export {
  type MeanInterval,
  type PairedDifference,
  pairBySeed,
  pairedDifference,
} from './paired-difference.js';
export {
  formatDuration,
  formatProgress,
  formatRate,
  ProgressLine,
  type ProgressLineOptions,
  type ProgressSnapshot,
} from './progress-line.js';
export {
  bucketMeans,
  type ComparisonTable,
  comparisonTable,
  loadReportRun,
  meanStd,
  type ReportRun,
  type RunSummary,
  summarizeRun,
  type TableCell,
} from './report-data.js';
export { type RunPaths, runPaths } from './run-directory.js';
export {
  type RunResults,
  readRunResults,
  writeRunResults,
} from './run-results.js';
export {
  type CompareRunsOptions,
  compareRuns,
  DOMAIN_WEIGHTS_FILE,
  type TrainRunOptions,
  type TrainRunResult,
  trainRun,
} from './run-training.js';
export { runSimulatedRanks, simulatedCollectives } from './simulated-collective.js';
export {
  StepGuard,
  type StepGuardOptions,
  type StepGuardState,
  type StepVerdict,
} from './step-guard.js';
export { type GlobalMicroBatch, type StepWeights, stepWeights } from './step-weights.js';
export { studentTCdf, studentTQuantile } from './student-t.js';
export {
  type ChartSeries,
  formatTick,
  type LineChartOptions,
  lineChart,
  niceTicks,
  type ReferenceLine,
} from './svg-chart.js';
export {
  type BatchSource,
  type TrainBatch,
  Trainer,
  type TrainerHooks,
  type TrainerOptions,
  type TrainerStepRecord,
  temperatureConfig,
} from './trainer.js';
export { TrainerError, type TrainerErrorCode } from './trainer-error.js';
export {
  type ValidationBatchOptions,
  validationBatches,
  validationBudget,
  validationDomains,
} from './validation-batches.js';

/** The package name, as published. */
export const packageName = '@lrw/trainer';

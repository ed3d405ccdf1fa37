export {
  DataFileError,
  type DataFileSpec,
  type DataFormat,
  readSplitFile,
} from './dataset-files.js';
export {
  EvaluationError,
  type EvaluationErrorCode,
  editDistance,
  nearestNames,
  UnknownTaskError,
} from './errors.js';
export {
  FEWSHOT_SAMPLERS,
  FewShotSampler,
  type FewShotSamplerOptions,
} from './fewshot-sampler.js';
export {
  applyTemplate,
  type CompiledTemplate,
  compileTemplate,
  TemplateError,
} from './jinja-template.js';
export type { LanguageModel, LoglikelihoodResult } from './language-model.js';
export { argmax, codePointLength, mean, meanStderr } from './metrics.js';
export {
  batchFromSequences,
  type DomainPerplexity,
  evaluatePerplexity,
  PerplexityMeter,
  type PerplexityOptions,
  type PerplexityReport,
  type TokenBatch,
  type TokenScorer,
  textPerplexity,
} from './perplexity.js';
export { literalEval, PythonLiteralError, type PyValue, pyRepr, pyStr } from './python-literal.js';
export { callPythonMethod, PythonMethodError, pyEquals } from './python-methods.js';
export { PythonRandom } from './python-random.js';
export { PY_SPACE, PY_WHITESPACE, pyRstrip, pyStrip, pyWordCount } from './python-whitespace.js';
export { RequestCache, type ScheduleStats, scoreRequests } from './request-scheduler.js';
export {
  type EvalResults,
  type RollingSampleLog,
  type RunTasksOptions,
  runTasks,
  type SampleLog,
} from './run-tasks.js';
export {
  type DocRequests,
  type LoadTaskOptions,
  type LoglikelihoodRequest,
  loadTask,
  type RollingRequest,
  type SplitFiles,
  Task,
} from './task.js';
export {
  builtinTaskDir,
  builtinTaskNames,
  type FewshotConfig,
  FunctionRef,
  loadTaskConfig,
  type MetricSpec,
  type OutputType,
  ROLLING_METRICS,
  resolveTaskPath,
  SUPPORTED_OUTPUT_TYPES,
  type TaskConfig,
  TaskConfigError,
  taskVersion,
} from './task-config.js';
export {
  BUILTIN_TASK_FUNCTIONS,
  type Doc,
  type DocFunction,
  type ProcessDocsFunction,
  type ProcessResultsFunction,
  resolveTaskFunction,
  type SamplesFunction,
  type TaskFunction,
} from './task-functions.js';
export {
  type CausalScorer,
  type ScoringRow,
  type TextEncoder,
  TokenLanguageModel,
  type TokenLanguageModelOptions,
} from './token-language-model.js';
export { wikitextDetokenize, wikitextProcessResults } from './wikitext.js';

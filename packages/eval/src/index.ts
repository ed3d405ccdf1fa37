export {
  DataFileError,
  type DataFileSpec,
  type DataFormat,
  readSplitFile,
} from './dataset-files.js';
export { FewShotSampler } from './fewshot-sampler.js';
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
export { RequestCache, type ScheduleStats, scoreRequests } from './request-scheduler.js';
export { type EvalResults, type RunTasksOptions, runTasks, type SampleLog } from './run-tasks.js';
export {
  type DocRequests,
  type LoadTaskOptions,
  type LoglikelihoodRequest,
  loadTask,
  type SplitFiles,
  Task,
} from './task.js';
export {
  builtinTaskDir,
  builtinTaskNames,
  FunctionRef,
  loadTaskConfig,
  type MetricSpec,
  type TaskConfig,
  TaskConfigError,
  taskVersion,
} from './task-config.js';
export {
  BUILTIN_TASK_FUNCTIONS,
  type Doc,
  resolveTaskFunction,
  type TaskFunction,
} from './task-functions.js';
export {
  type CausalScorer,
  type ScoringRow,
  type TextEncoder,
  TokenLanguageModel,
  type TokenLanguageModelOptions,
} from './token-language-model.js';

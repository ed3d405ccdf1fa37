import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDataset } from '@lrw/data';
import {
  builtinTaskNames,
  type EvalResults,
  type LanguageModel,
  loadTask,
  nearestNames,
  type PerplexityReport,
  resolveTaskPath,
  runTasks,
  type SplitFiles,
  type Task,
  TokenLanguageModel,
  UnknownTaskError,
} from '@lrw/eval';
import { evaluateModel } from '../evaluate.js';
import { validationBatches } from '../validation-batches.js';
import { CliError, type CliIo, progressLine } from './io.js';
import { loadRunModel, ModelCausalScorer } from './run-model.js';

/**
 * Where the paper's four tasks keep their rows in a folder laid out like
 * shared/data/eval (the files as their authors distribute them; see @lrw/eval's README).
 */
export const PAPER_TASK_FILES: Record<string, Record<string, string>> = {
  piqa: { validation: 'piqa/valid.jsonl' },
  sciq: { test: 'sciq/test.json' },
  logiqa: { test: 'logiqa/Test.txt' },
  logiqa2: { test: 'logiqa2/test.txt' },
};

/** Each of `tasks` a built-in task or a task YAML; else "unknown task" with the nearest names. */
export function checkTaskNames(tasks: readonly string[]): void {
  for (const task of tasks) {
    try {
      resolveTaskPath(task);
    } catch (e) {
      if (!(e instanceof UnknownTaskError)) throw e;
      const near = nearestNames(task, builtinTaskNames());
      throw new CliError(
        `unknown task '${task}'${near.length ? `; did you mean ${near.join(', ')}?` : '.'}`,
        `built-in tasks are ${builtinTaskNames().join(', ')}; or give the path of a task YAML (ending in .yaml).`,
      );
    }
  }
}

/**
 * `--task-file piqa:validation=path` values and `--task-data DIR` into runTasks' dataFiles,
 * after checking that every task exists.
 */
export function taskDataFiles(
  tasks: readonly string[],
  taskData: string | undefined,
  taskFiles: readonly string[] = [],
): Record<string, SplitFiles> {
  checkTaskNames(tasks);
  const files: Record<string, Record<string, string>> = {};
  for (const spec of taskFiles) {
    const m = /^([\w-]+):([\w-]+)=(.+)$/.exec(spec);
    if (!m) {
      throw new CliError(
        `--task-file ${spec}: expected <task>:<split>=<path>.`,
        'write it like --task-file piqa:validation=data/piqa/valid.jsonl',
      );
    }
    const path = resolve(m[3]!);
    if (!existsSync(path)) {
      throw new CliError(
        `--task-file ${spec}: ${path} does not exist.`,
        `give the path of the ${m[1]} ${m[2]} data file (e.g. piqa/valid.jsonl, sciq/test.json), or --task-data <dir> laid out like shared/data/eval.`,
      );
    }
    files[m[1]!] = { ...files[m[1]!], [m[2]!]: path };
  }
  for (const task of tasks) {
    if (files[task] !== undefined) continue;
    const layout = PAPER_TASK_FILES[task];
    if (taskData === undefined || layout === undefined) {
      throw new CliError(
        `task ${task}: no data files given.`,
        layout
          ? `pass --task-data <dir> holding ${Object.values(layout)[0]} (the layout of shared/data/eval), or --task-file ${task}:<split>=<path>.`
          : `pass --task-file ${task}:<split>=<path> (the split the task's YAML evaluates, e.g. validation).`,
      );
    }
    const entry: Record<string, string> = {};
    for (const [split, rel] of Object.entries(layout)) {
      const path = join(resolve(taskData), rel);
      if (!existsSync(path)) {
        throw new CliError(
          `task ${task}: ${path} does not exist.`,
          `--task-data must be laid out like shared/data/eval (${rel}); or give --task-file ${task}:${split}=<path>.`,
        );
      }
      entry[split] = path;
    }
    files[task] = entry;
  }
  return files as Record<string, SplitFiles>;
}

export interface EvaluateRunOptions {
  data: string;
  tasks?: string[];
  dataFiles?: Record<string, SplitFiles>;
  numFewshot?: number;
  limit?: number;
  evalBatches?: number;
  batchSize?: number;
  /** Backend of the evaluated model (default: the one the run trained on). */
  backend?: string;
  /** Where the task progress line goes (none without). */
  io?: CliIo;
}

/** lm-eval's default few-shot seed, which runTasks also uses. */
const FEWSHOT_SEED = 1234;

/**
 * Counts the model calls of runTasks on a progress line with ETA. The total is the number of
 * distinct (context, continuation) requests of the tasks, which is what the scheduler scores.
 */
function withProgress(
  lm: LanguageModel,
  tasks: readonly Task[],
  options: EvaluateRunOptions,
  io: CliIo,
): LanguageModel {
  const distinct = new Set<string>();
  for (const task of tasks) {
    if (task.rolling) continue; // scored with loglikelihoodRolling, not counted here
    const docs = task.buildRequests({
      ...(options.numFewshot !== undefined ? { numFewshot: options.numFewshot } : {}),
      seed: FEWSHOT_SEED,
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
    for (const d of docs)
      for (const r of d.requests) distinct.add(`${r.context}\u0000${r.continuation}`);
  }
  const line = progressLine(io, distinct.size, 'tasks (requests)');
  let done = 0;
  return {
    loglikelihood: async (requests) => {
      const out = await lm.loglikelihood(requests);
      done += requests.length;
      line.update({ step: Math.min(done, distinct.size) });
      return out;
    },
    loglikelihoodRolling: (texts) => lm.loglikelihoodRolling(texts),
  };
}

export interface RunEvaluation {
  step: number;
  perplexity: PerplexityReport;
  tasks?: EvalResults;
  /** acc (or acc_norm when the task has no acc) per task, for results.json. */
  accuracy?: Record<string, number>;
}

/** Per-domain validation perplexity and, optionally, few-shot tasks of a run's latest checkpoint. */
export async function evaluateRun(
  runDir: string,
  options: EvaluateRunOptions,
): Promise<RunEvaluation> {
  const dataset = await openDataset(resolve(options.data));
  const { model, config, step } = await loadRunModel(runDir, dataset.vocabSize, options.backend, {
    tokenizer: dataset.index.tokenizer.name,
    dir: resolve(options.data),
  });
  try {
    const batchSize = options.batchSize ?? config.batchSize;
    // The same per-domain validation pass as the trainer's evaluations (validationBatches).
    const perplexity = await evaluateModel(
      model,
      validationBatches(dataset, {
        batchSize,
        seqLen: config.seqLen,
        ...(options.evalBatches !== undefined ? { maxBatches: options.evalBatches } : {}),
      }),
      { domains: dataset.domains },
    );
    const out: RunEvaluation = { step, perplexity };
    if (options.tasks && options.tasks.length > 0) {
      const tasks = options.tasks.map((name) =>
        loadTask(name, { dataFiles: options.dataFiles?.[name] ?? {} }),
      );
      // The model's whole context (as lm-eval's max_length), not the training seqLen: inputs
      // are cut from the left to it, so a run trained on short sequences still scores long
      // prompts.
      const tokenModel = new TokenLanguageModel(
        await dataset.tokenizer(),
        new ModelCausalScorer(model),
        { batchSize: 8 },
      );
      const lm = options.io ? withProgress(tokenModel, tasks, options, options.io) : tokenModel;
      const results = await runTasks(lm, {
        tasks,
        ...(options.numFewshot !== undefined ? { numFewshot: options.numFewshot } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
        seed: FEWSHOT_SEED,
        modelName: `lrw:${runDir}`,
      });
      out.tasks = results;
      out.accuracy = {};
      for (const [task, r] of Object.entries(results.results)) {
        const acc = r['acc,none'] ?? r['acc_norm,none'];
        if (typeof acc === 'number') out.accuracy[task] = acc;
      }
    }
    return out;
  } finally {
    model.dispose();
  }
}

/**
 * The lm-eval-style results JSON of `lrw eval`: each task's block as runTasks gives it, and one
 * block per domain, `lrw_perplexity_<domain>`, with `perplexity,none`, `loss,none` (nats per
 * token) and `tokens`, plus `lrw_perplexity` over all validation tokens.
 */
export function lmEvalResults(runDir: string, ev: RunEvaluation): Record<string, unknown> {
  const block = (d: PerplexityReport['overall']) => ({
    'perplexity,none': d.perplexity,
    'loss,none': d.loss,
    tokens: d.tokens,
    ...(d.bitsPerByte !== undefined ? { 'bits_per_byte,none': d.bitsPerByte } : {}),
  });
  const results: Record<string, unknown> = { lrw_perplexity: block(ev.perplexity.overall) };
  for (const [domain, d] of Object.entries(ev.perplexity.domains)) {
    results[`lrw_perplexity_${domain}`] = block(d);
  }
  const higher: Record<string, unknown> = {};
  for (const key of Object.keys(results)) higher[key] = { perplexity: false, loss: false };
  const tasks = ev.tasks;
  return {
    results: { ...results, ...(tasks?.results ?? {}) },
    configs: tasks?.configs ?? {},
    versions: tasks?.versions ?? {},
    'n-shot': tasks?.['n-shot'] ?? {},
    'n-samples': tasks?.['n-samples'] ?? {},
    higher_is_better: { ...higher, ...(tasks?.higher_is_better ?? {}) },
    config: { model: 'lrw', model_args: `run=${resolve(runDir)}`, step: ev.step },
  };
}

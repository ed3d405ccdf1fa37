/**
 * `runTasks`: lm-eval's `simple_evaluate` for multiple-choice tasks, with results shaped
 * like lm-eval's JSON (`results.<task>["acc,none"]`, stderr, configs, versions, n-shot,
 * n-samples) and an optional per-sample log.
 */
import { createHash } from 'node:crypto';
import type { LanguageModel } from './language-model.js';
import { argmax, codePointLength, mean, meanStderr } from './metrics.js';
import { type RequestCache, type ScheduleStats, scoreRequests } from './request-scheduler.js';
import { type SplitFiles, Task } from './task.js';
import { loadTaskConfig, taskVersion } from './task-config.js';
import type { TaskFunction } from './task-functions.js';

export interface RunTasksOptions {
  /** Built-in task names, YAML paths, or loaded tasks. */
  tasks: (string | Task)[];
  /** Per task name: split name to file (not needed for tasks passed already loaded). */
  dataFiles?: Record<string, SplitFiles>;
  /** Overrides every task's `num_fewshot` (lm-eval's --num_fewshot); default the YAML's or 0. */
  numFewshot?: number;
  /** Few-shot sampler seed (lm-eval's fewshot_random_seed), default 1234. */
  seed?: number;
  /** Evaluate only the first `limit` documents of each task. */
  limit?: number;
  /** Requests per model call, default 64. */
  batchSize?: number;
  /** Keep a per-sample log in `samples`. */
  logSamples?: boolean;
  /** Reuse scores across runs. */
  cache?: RequestCache;
  /** Implementations for `!function` references beyond the built-ins. */
  functions?: Record<string, TaskFunction>;
  /** A name for the model in `config.model`. */
  modelName?: string;
}

/** One line of the per-sample log (lm-eval's `samples` entries). */
export interface SampleLog {
  doc_id: number;
  doc: unknown;
  target: unknown;
  arguments: { context: string; continuation: string }[];
  resps: [number, boolean][];
  acc: number;
  acc_norm: number;
  doc_hash: string;
  prompt_hash: string;
  target_hash: string;
}

export interface EvalResults {
  results: Record<string, Record<string, number | string>>;
  group_subtasks: Record<string, string[]>;
  configs: Record<string, Record<string, unknown>>;
  versions: Record<string, number | string | null>;
  'n-shot': Record<string, number>;
  higher_is_better: Record<string, Record<string, boolean>>;
  'n-samples': Record<string, { original: number; effective: number }>;
  config: Record<string, unknown>;
  samples?: Record<string, SampleLog[]>;
  /** Request counts: asked, actually scored, model calls. */
  requests: ScheduleStats;
}

const SUPPORTED_METRICS = new Set(['acc', 'acc_norm']);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Evaluates a model on multiple-choice tasks the way lm-evaluation-harness does. */
export async function runTasks(
  model: LanguageModel,
  options: RunTasksOptions,
): Promise<EvalResults> {
  const seed = options.seed ?? 1234;
  const tasks = options.tasks.map((t) => {
    if (t instanceof Task) return t;
    const config = loadTaskConfig(t);
    const files = options.dataFiles?.[config.task] ?? options.dataFiles?.[t];
    if (!files) {
      throw new TypeError(
        `runTasks: no dataFiles for task '${config.task}'; pass dataFiles: { ${config.task}: { ${config.test_split ?? config.validation_split}: 'path' } }`,
      );
    }
    return new Task(config, { dataFiles: files, functions: options.functions });
  });
  const out: EvalResults = {
    results: {},
    group_subtasks: {},
    configs: {},
    versions: {},
    'n-shot': {},
    higher_is_better: {},
    'n-samples': {},
    config: {
      model: options.modelName ?? 'LanguageModel',
      num_fewshot: options.numFewshot ?? null,
      batch_size: options.batchSize ?? 64,
      limit: options.limit ?? null,
      fewshot_seed: seed,
    },
    requests: { requests: 0, scored: 0, batches: 0 },
  };
  if (options.logSamples) out.samples = {};

  // Build every task's requests first so one schedule covers them all.
  const built = tasks.map((task) => {
    const metrics = task.config.metric_list.map((m) => m.metric);
    for (const m of metrics) {
      if (!SUPPORTED_METRICS.has(m)) {
        throw new TypeError(
          `task '${task.name}': metric '${m}' is not supported (supported: acc, acc_norm)`,
        );
      }
    }
    const numFewshot = options.numFewshot ?? task.config.num_fewshot ?? 0;
    return {
      task,
      metrics,
      numFewshot,
      docs: task.buildRequests({ numFewshot, seed, limit: options.limit }),
    };
  });
  const all = built.flatMap((b) => b.docs.flatMap((d) => d.requests));
  const { results, stats } = await scoreRequests(model, all, {
    batchSize: options.batchSize,
    cache: options.cache,
  });
  out.requests = stats;

  let offset = 0;
  for (const { task, metrics, numFewshot, docs } of built) {
    const name = task.name;
    const acc: number[] = [];
    const accNorm: number[] = [];
    const samples: SampleLog[] = [];
    for (const d of docs) {
      const scored = results.slice(offset, offset + d.requests.length);
      offset += d.requests.length;
      const lls = scored.map((r) => r.logprob);
      const pred = argmax(lls);
      const predNorm = argmax(lls.map((ll, i) => ll / codePointLength(d.choices[i])));
      const a = d.gold.includes(pred) ? 1 : 0;
      const an = d.gold.includes(predNorm) ? 1 : 0;
      acc.push(a);
      accNorm.push(an);
      if (options.logSamples) {
        samples.push({
          doc_id: d.docId,
          doc: d.doc,
          target: d.target,
          arguments: d.requests,
          resps: scored.map((r) => [r.logprob, r.greedy]),
          acc: a,
          acc_norm: an,
          doc_hash: sha256(JSON.stringify(d.doc, null, 2)),
          prompt_hash: sha256(d.requests[0].context),
          target_hash: sha256(String(d.target)),
        });
      }
    }
    const row: Record<string, number | string> = { alias: name };
    const n = docs.length;
    if (metrics.includes('acc')) {
      row['acc,none'] = mean(acc);
      row['acc_stderr,none'] = n > 1 ? meanStderr(acc) : 'N/A';
    }
    if (metrics.includes('acc_norm')) {
      row['acc_norm,none'] = mean(accNorm);
      row['acc_norm_stderr,none'] = n > 1 ? meanStderr(accNorm) : 'N/A';
    }
    out.results[name] = row;
    out.group_subtasks[name] = [];
    const { includeChain: _chain, source: _source, ...config } = task.config;
    out.configs[name] = JSON.parse(JSON.stringify({ ...config, num_fewshot: numFewshot }));
    out.versions[name] = taskVersion(task.config);
    out['n-shot'][name] = numFewshot;
    out.higher_is_better[name] = Object.fromEntries(
      task.config.metric_list.map((m) => [m.metric, m.higher_is_better ?? true]),
    );
    out['n-samples'][name] = { original: task.evalDocs.length, effective: n };
    if (out.samples) out.samples[name] = samples;
  }
  return out;
}

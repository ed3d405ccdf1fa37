/**
 * `runTasks`: lm-eval's `simple_evaluate` for multiple-choice and loglikelihood_rolling
 * (perplexity) tasks, with results shaped
 * like lm-eval's JSON (`results.<task>["acc,none"]`, stderr, configs, versions, n-shot,
 * n-samples) and an optional per-sample log.
 */
import { createHash } from 'node:crypto';
import { TaskConfigError } from './errors.js';
import type { LanguageModel } from './language-model.js';
import { argmax, codePointLength, mean, meanStderr } from './metrics.js';
import { type RequestCache, type ScheduleStats, scoreRequests } from './request-scheduler.js';
import { type DocRequests, type RollingRequest, type SplitFiles, Task } from './task.js';
import { loadTaskConfig, ROLLING_METRICS, taskVersion } from './task-config.js';
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

/** One line of the per-sample log of a loglikelihood_rolling task. */
export interface RollingSampleLog {
  doc_id: number;
  doc: unknown;
  target: string;
  arguments: [string][];
  resps: [number][];
  /** [loglikelihood, words] and [loglikelihood, bytes], as lm-eval logs them. */
  word_perplexity?: [number, number];
  byte_perplexity?: [number, number];
  bits_per_byte?: [number, number];
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
  samples?: Record<string, (SampleLog | RollingSampleLog)[]>;
  /** Request counts: asked, actually scored, model calls. */
  requests: ScheduleStats;
}

const MC_METRICS = ['acc', 'acc_norm'];

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface BuiltTask {
  task: Task;
  metrics: string[];
  numFewshot: number;
  docs?: DocRequests[];
  rolling?: RollingRequest[];
}

/** Evaluates a model on tasks the way lm-evaluation-harness does. */
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
      throw new TaskConfigError(`runTasks: no dataFiles for task '${config.task}'`, {
        hint: `pass dataFiles: { ${config.task}: { ${config.test_split ?? config.validation_split}: 'path' } }.`,
      });
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
  const built: BuiltTask[] = tasks.map((task) => {
    const metrics = task.config.metric_list.map((m) => m.metric);
    const supported: readonly string[] = task.rolling ? ROLLING_METRICS : MC_METRICS;
    for (const m of metrics) {
      if (!supported.includes(m)) {
        throw new TaskConfigError(
          `task '${task.name}': metric '${m}' is not supported for ${task.config.output_type} (supported: ${supported.join(', ')})`,
        );
      }
    }
    const numFewshot = options.numFewshot ?? task.config.num_fewshot ?? 0;
    return task.rolling
      ? { task, metrics, numFewshot, rolling: task.buildRollingRequests({ limit: options.limit }) }
      : {
          task,
          metrics,
          numFewshot,
          docs: task.buildRequests({ numFewshot, seed, limit: options.limit }),
        };
  });
  const all = built.flatMap((b) => (b.docs ?? []).flatMap((d) => d.requests));
  const { results, stats } = await scoreRequests(model, all, {
    batchSize: options.batchSize,
    cache: options.cache,
  });
  out.requests = stats;
  const texts = built.flatMap((b) => (b.rolling ?? []).map((r) => r.text));
  const rollingLls = texts.length ? await model.loglikelihoodRolling(texts) : [];
  if (rollingLls.length !== texts.length) {
    throw new TypeError(
      `loglikelihoodRolling returned ${rollingLls.length} results for ${texts.length} texts`,
    );
  }

  let offset = 0;
  let rollingOffset = 0;
  for (const b of built) {
    const { task, metrics, numFewshot } = b;
    const name = task.name;
    let row: Record<string, number | string>;
    let samples: (SampleLog | RollingSampleLog)[];
    if (b.docs) {
      const scored = results.slice(
        offset,
        offset + b.docs.reduce((n, d) => n + d.requests.length, 0),
      );
      offset += scored.length;
      ({ row, samples } = multipleChoiceRow(name, metrics, b.docs, scored, options.logSamples));
    } else {
      const lls = rollingLls.slice(rollingOffset, rollingOffset + b.rolling!.length);
      rollingOffset += lls.length;
      ({ row, samples } = rollingRow(task, metrics, b.rolling!, lls, options.logSamples));
    }
    out.results[name] = row;
    out.group_subtasks[name] = [];
    const { includeChain: _chain, source: _source, ...config } = task.config;
    out.configs[name] = JSON.parse(JSON.stringify({ ...config, num_fewshot: numFewshot }));
    out.versions[name] = taskVersion(task.config);
    out['n-shot'][name] = numFewshot;
    out.higher_is_better[name] = Object.fromEntries(
      task.config.metric_list.map((m) => [m.metric, m.higher_is_better ?? !task.rolling]),
    );
    out['n-samples'][name] = {
      original: task.evalDocs.length,
      effective: (b.docs ?? b.rolling!).length,
    };
    if (out.samples) out.samples[name] = samples;
  }
  return out;
}

/** acc (argmax of log-likelihoods) and acc_norm (per code point), means and stderrs. */
function multipleChoiceRow(
  name: string,
  metrics: string[],
  docs: DocRequests[],
  results: { logprob: number; greedy: boolean }[],
  logSamples: boolean | undefined,
): { row: Record<string, number | string>; samples: SampleLog[] } {
  const acc: number[] = [];
  const accNorm: number[] = [];
  const samples: SampleLog[] = [];
  let offset = 0;
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
    if (logSamples) {
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
  return { row, samples };
}

/**
 * lm-eval's aggregations of (loglikelihood, count) pairs: word and byte perplexity
 * `exp(-sum ll / sum count)`, bits per byte `-sum ll / sum bytes / ln 2`; no stderr ("N/A").
 */
function rollingRow(
  task: Task,
  metrics: string[],
  requests: RollingRequest[],
  lls: number[],
  logSamples: boolean | undefined,
): { row: Record<string, number | string>; samples: RollingSampleLog[] } {
  const sums = new Map<string, { ll: number; count: number }>(
    metrics.map((m) => [m, { ll: 0, count: 0 }]),
  );
  const samples: RollingSampleLog[] = [];
  requests.forEach((r, i) => {
    const pairs = task.rollingResults(r.doc, r.text, lls[i]);
    for (const m of metrics) {
      const pair = pairs[m];
      if (!pair) {
        throw new TaskConfigError(
          `task '${task.name}': process_results gave no value for metric '${m}'`,
        );
      }
      const s = sums.get(m)!;
      s.ll += pair[0];
      s.count += pair[1];
    }
    if (logSamples) {
      samples.push({
        doc_id: r.docId,
        doc: r.doc,
        target: r.text,
        arguments: [[r.text]],
        resps: [[lls[i]]],
        ...pairs,
      });
    }
  });
  const row: Record<string, number | string> = { alias: task.name };
  for (const [m, { ll, count }] of sums) {
    const weighted = ll / count;
    row[`${m},none`] = m === 'bits_per_byte' ? -weighted / Math.LN2 : Math.exp(-weighted);
    row[`${m}_stderr,none`] = 'N/A';
  }
  return { row, samples };
}

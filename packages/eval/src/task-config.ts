/**
 * lm-eval task YAML: `include`, `!function`, and the defaults of lm-eval's `TaskConfig`
 * (`target_delimiter: " "`, `fewshot_delimiter: "\n\n"`, empty `description`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type Tags } from 'yaml';
import { nearestNames, TaskConfigError, UnknownTaskError } from './errors.js';

export { TaskConfigError };

/** A `!function module.name` reference from a task YAML. */
export class FunctionRef {
  constructor(readonly ref: string) {}
  toJSON(): string {
    return `!function ${this.ref}`;
  }
}

/** A template (Jinja string or field name), a literal, a YAML list, or a function. */
export type DocField = string | number | string[] | Record<string, string> | FunctionRef;

export interface MetricSpec {
  metric: string;
  aggregation?: string;
  higher_is_better?: boolean;
}

/**
 * `fewshot_config`: the sampler (`default`, `first_n`), a split of its own (`split`, which
 * wins over `samples` as in lm-eval), and hand-written examples (`samples`: a list of
 * documents, or a `!function` returning one).
 */
export interface FewshotConfig {
  sampler?: string;
  split?: string | null;
  samples?: Record<string, unknown>[] | FunctionRef;
}

/** Output types this runner evaluates. */
export const SUPPORTED_OUTPUT_TYPES = ['multiple_choice', 'loglikelihood_rolling'] as const;
export type OutputType = (typeof SUPPORTED_OUTPUT_TYPES)[number];

/** The fields of an lm-eval task YAML this package understands. */
export interface TaskConfig {
  task: string;
  tag?: string | string[];
  dataset_path?: string;
  dataset_name?: string | null;
  output_type: OutputType;
  training_split?: string | null;
  validation_split?: string | null;
  test_split?: string | null;
  fewshot_split?: string | null;
  process_docs?: FunctionRef;
  doc_to_text: DocField;
  doc_to_target: DocField;
  doc_to_choice?: DocField;
  /** `process_results` of a loglikelihood_rolling task (wikitext's counts words on the raw page). */
  process_results?: FunctionRef;
  target_delimiter: string;
  fewshot_delimiter: string;
  description: string;
  num_fewshot?: number | null;
  fewshot_config?: FewshotConfig;
  metric_list: MetricSpec[];
  metadata?: Record<string, unknown> | Record<string, unknown>[];
  /** Names of the `task` fields along the `include` chain, innermost last (for `!function`). */
  readonly includeChain: string[];
  /** The YAML file the config came from. */
  readonly source: string;
  [other: string]: unknown;
}

const functionTag: Tags[number] = {
  tag: '!function',
  identify: (v: unknown) => v instanceof FunctionRef,
  resolve: (s: string) => new FunctionRef(s.trim()),
};

/** The folder of built-in task YAMLs shipped with the package. */
export const builtinTaskDir = fileURLToPath(new URL('../tasks/', import.meta.url));

/** Names of the built-in tasks (one YAML each in the package's `tasks/` folder). */
export function builtinTaskNames(): string[] {
  return readdirSync(builtinTaskDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

function readYaml(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TaskConfigError(`cannot read task YAML ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    // PyYAML (lm-eval's parser) reads YAML 1.1.
    value = parse(text, { customTags: [functionTag], version: '1.1' });
  } catch (err) {
    throw new TaskConfigError(`task YAML ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TaskConfigError(`task YAML ${path} must be a mapping of fields, got ${typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** Reads a YAML and its `include`s (included first, the including file's fields win). */
function readWithIncludes(
  path: string,
  seen: string[],
): { raw: Record<string, unknown>; chain: string[] } {
  if (seen.includes(path)) {
    throw new TaskConfigError(`include cycle: ${[...seen, path].join(' -> ')}`);
  }
  const own = readYaml(path);
  const { include, ...rest } = own;
  let base: Record<string, unknown> = {};
  let chain: string[] = [];
  if (include !== undefined) {
    if (typeof include !== 'string') {
      throw new TaskConfigError(
        `${path}: 'include' must be a file name, got ${JSON.stringify(include)}`,
      );
    }
    const target = isAbsolute(include) ? include : resolve(dirname(path), include);
    const inner = readWithIncludes(target, [...seen, path]);
    base = inner.raw;
    chain = inner.chain;
  }
  if (typeof rest.task === 'string') chain = [...chain, rest.task];
  return { raw: { ...base, ...rest }, chain };
}

/** Resolves a task name or a YAML path to the YAML file. */
export function resolveTaskPath(yamlPathOrName: string): string {
  if (/\.ya?ml$/i.test(yamlPathOrName) || yamlPathOrName.includes('/')) {
    const p = resolve(yamlPathOrName);
    if (!existsSync(p)) throw new TaskConfigError(`task YAML not found: ${p}`);
    return p;
  }
  const p = resolve(builtinTaskDir, `${yamlPathOrName}.yaml`);
  if (!existsSync(p)) {
    const names = builtinTaskNames();
    throw new UnknownTaskError(yamlPathOrName, nearestNames(yamlPathOrName, names), names);
  }
  return p;
}

/** Loads a task YAML (or a built-in task by name) into a config with lm-eval's defaults. */
export function loadTaskConfig(yamlPathOrName: string): TaskConfig {
  const source = resolveTaskPath(yamlPathOrName);
  const { raw, chain } = readWithIncludes(source, []);
  const where = `task YAML ${source}`;
  if (typeof raw.task !== 'string') throw new TaskConfigError(`${where}: missing 'task' name`);
  const outputType = (raw.output_type ?? 'generate_until') as OutputType;
  if (!SUPPORTED_OUTPUT_TYPES.includes(outputType)) {
    throw new TaskConfigError(
      `${where}: output_type '${String(outputType)}' is not supported; this runner evaluates ${SUPPORTED_OUTPUT_TYPES.join(' and ')} tasks`,
    );
  }
  const rolling = outputType === 'loglikelihood_rolling';
  const required = rolling ? ['doc_to_target'] : ['doc_to_text', 'doc_to_target', 'doc_to_choice'];
  for (const field of required) {
    if (raw[field] === undefined) throw new TaskConfigError(`${where}: missing '${field}'`);
  }
  const fewshot = checkFewshotConfig(raw.fewshot_config, where);
  const metricList =
    (raw.metric_list as MetricSpec[] | undefined) ??
    (rolling ? ROLLING_METRICS.map((metric) => ({ metric })) : [{ metric: 'acc' }]);
  return {
    ...raw,
    task: raw.task,
    output_type: outputType,
    doc_to_text: (raw.doc_to_text ?? '') as DocField,
    doc_to_target: raw.doc_to_target as DocField,
    doc_to_choice: raw.doc_to_choice as DocField,
    target_delimiter: (raw.target_delimiter as string | undefined) ?? ' ',
    fewshot_delimiter: (raw.fewshot_delimiter as string | undefined) ?? '\n\n',
    description: (raw.description as string | undefined) ?? '',
    metric_list: metricList,
    ...(fewshot ? { fewshot_config: fewshot } : {}),
    includeChain: chain,
    source,
  };
}

/** lm-eval's metrics of a loglikelihood_rolling task (its default `metric_list`). */
export const ROLLING_METRICS = ['word_perplexity', 'byte_perplexity', 'bits_per_byte'] as const;

const FEWSHOT_KEYS = ['sampler', 'split', 'samples'];

/** `fewshot_config` as far as this runner implements it; other keys are an error, not ignored. */
function checkFewshotConfig(value: unknown, where: string): FewshotConfig | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TaskConfigError(
      `${where}: fewshot_config must be a mapping, got ${JSON.stringify(value)}`,
    );
  }
  const cfg = value as Record<string, unknown>;
  const unknown = Object.keys(cfg).filter((k) => !FEWSHOT_KEYS.includes(k));
  if (unknown.length) {
    throw new TaskConfigError(
      `${where}: fewshot_config.${unknown[0]} is not supported (supported: ${FEWSHOT_KEYS.join(', ')})`,
      {
        hint: 'remove it, or write the few-shot examples the task needs as fewshot_config.samples.',
      },
    );
  }
  const { samples } = cfg;
  if (
    samples !== undefined &&
    samples !== null &&
    !(samples instanceof FunctionRef) &&
    !(
      Array.isArray(samples) &&
      samples.every((s) => s !== null && typeof s === 'object' && !Array.isArray(s))
    )
  ) {
    throw new TaskConfigError(
      `${where}: fewshot_config.samples must be a list of documents (mappings) or a !function returning one`,
    );
  }
  return cfg as FewshotConfig;
}

/** `metadata.version` (a mapping, or lm-eval's older list-of-mappings form). */
export function taskVersion(config: TaskConfig): number | string | null {
  const meta = config.metadata;
  const entries = Array.isArray(meta) ? meta : meta ? [meta] : [];
  for (const m of entries) {
    if (m && 'version' in m) return m.version as number | string;
  }
  return null;
}

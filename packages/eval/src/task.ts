/**
 * A multiple-choice task as lm-eval's `ConfigurableTask` runs it: documents of the evaluated
 * split, `doc_to_text`/`doc_to_target`/`doc_to_choice`, the few-shot context, and the
 * loglikelihood requests of each document (lm_eval/api/task.py).
 */
import { type DataFileSpec, readSplitFile } from './dataset-files.js';
import { FewShotSampler } from './fewshot-sampler.js';
import { applyTemplate } from './jinja-template.js';
import { literalEval } from './python-literal.js';
import {
  type DocField,
  FunctionRef,
  loadTaskConfig,
  type TaskConfig,
  TaskConfigError,
} from './task-config.js';
import {
  type Doc,
  type DocFunction,
  type ProcessDocsFunction,
  resolveTaskFunction,
  type TaskFunction,
} from './task-functions.js';

/** Split name (`validation`, `test`, `train`...) to file. */
export type SplitFiles = Record<string, DataFileSpec>;

export interface LoadTaskOptions {
  /** Files of the splits the YAML names: `{ validation: 'valid.jsonl' }`. */
  dataFiles: SplitFiles;
  /** Implementations of `!function` references beyond the built-in ones. */
  functions?: Record<string, TaskFunction>;
}

/** One loglikelihood request: score `continuation` given `context`. */
export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

/** The requests of one document and what is needed to score them. */
export interface DocRequests {
  docId: number;
  doc: Doc;
  requests: LoglikelihoodRequest[];
  /** The choices as `doc_to_choice` gives them (acc_norm divides by their length). */
  choices: string[];
  /** Gold choice indices (one, or several for multiple-target tasks); -100 when out of range. */
  gold: number[];
  /** `doc_to_target` as lm-eval logs it. */
  target: unknown;
}

/** A task loaded from its YAML and local data files. */
export class Task {
  readonly name: string;
  /** Splits whose files were given; docs after `process_docs`. */
  private readonly splits = new Map<string, Doc[]>();
  private readonly features: Set<string>;
  readonly evalSplit: string;
  /** lm-eval's `multiple_input`: `doc_to_text` gives the gold index, choices go in the context. */
  readonly multipleInput: boolean;
  private readonly fns = new Map<string, TaskFunction>();

  constructor(
    readonly config: TaskConfig,
    options: LoadTaskOptions,
  ) {
    this.name = config.task;
    const where = `task '${this.name}' (${config.source})`;
    for (const value of Object.values(config)) {
      if (value instanceof FunctionRef) {
        this.fns.set(
          value.ref,
          resolveTaskFunction(value, config.includeChain, options.functions, where),
        );
      }
    }
    const given = Object.keys(options.dataFiles ?? {});
    const configured = [
      config.training_split,
      config.validation_split,
      config.test_split,
      config.fewshot_split,
    ];
    for (const split of given) {
      if (!configured.includes(split)) {
        throw new TaskConfigError(
          `${where}: dataFiles names split '${split}', but the YAML's splits are ` +
            `${configured.filter((s) => s != null).join(', ')}`,
        );
      }
      const spec = options.dataFiles[split];
      let docs = readSplitFile(spec, config.dataset_path);
      if (config.process_docs)
        docs = (this.fns.get(config.process_docs.ref) as ProcessDocsFunction)(docs);
      this.splits.set(split, docs);
    }
    // Evaluated split: test if the YAML has one, else validation (lm-eval's eval_docs).
    const evalSplit = config.test_split ?? config.validation_split;
    if (!evalSplit)
      throw new TaskConfigError(`${where}: neither test_split nor validation_split is set`);
    if (!this.splits.has(evalSplit)) {
      throw new TaskConfigError(
        `${where}: evaluates split '${evalSplit}', but dataFiles has ${given.length ? given.join(', ') : 'no files'}; ` +
          `pass { dataFiles: { ${evalSplit}: 'path/to/${evalSplit}.jsonl' } }`,
      );
    }
    this.evalSplit = evalSplit;
    const docs = this.splits.get(evalSplit)!;
    if (docs.length === 0) throw new TaskConfigError(`${where}: split '${evalSplit}' has no rows`);
    this.features = new Set(Object.keys(docs[0]));
    this.multipleInput = typeof this.docToText(docs[0]) === 'number';
  }

  /** Rows of the evaluated split. */
  get evalDocs(): readonly Doc[] {
    return this.splits.get(this.evalSplit)!;
  }

  /**
   * Few-shot source: `fewshot_split`, else the first of training, validation, test whose file
   * was given (lm-eval's `fewshot_docs`, restricted to the splits available locally).
   */
  fewshotDocs(): { split: string; docs: readonly Doc[] } | undefined {
    const c = this.config;
    for (const split of [c.fewshot_split, c.training_split, c.validation_split, c.test_split]) {
      if (split && this.splits.has(split)) return { split, docs: this.splits.get(split)! };
    }
    return undefined;
  }

  private field(spec: DocField, doc: Doc, kind: 'text' | 'target' | 'choice'): unknown {
    if (spec instanceof FunctionRef) return (this.fns.get(spec.ref) as DocFunction)(doc);
    if (typeof spec === 'number') return spec;
    // A YAML list of choices; entries may themselves be templates ("{{answerA}}").
    if (Array.isArray(spec)) return spec.map((s) => (s.includes('{') ? applyTemplate(s, doc) : s));
    if (typeof spec === 'object') return Object.values(spec);
    if (this.features.has(spec)) return doc[spec];
    const rendered = applyTemplate(spec, doc);
    if (kind === 'choice') {
      const value = literalEval(rendered);
      if (!Array.isArray(value)) {
        throw new TaskConfigError(
          `task '${this.name}': doc_to_choice must give a list, got ${rendered}`,
        );
      }
      return value;
    }
    if (/^\d+$/.test(rendered) && this.config.doc_to_choice != null)
      return Number.parseInt(rendered, 10);
    if (
      kind === 'target' &&
      rendered.length >= 2 &&
      rendered.startsWith('[') &&
      rendered.endsWith(']')
    ) {
      try {
        return literalEval(rendered);
      } catch {
        return rendered;
      }
    }
    return rendered;
  }

  docToText(doc: Doc): unknown {
    return this.field(this.config.doc_to_text, doc, 'text');
  }
  docToTarget(doc: Doc): unknown {
    return this.field(this.config.doc_to_target, doc, 'target');
  }
  docToChoice(doc: Doc): string[] {
    return (this.field(this.config.doc_to_choice!, doc, 'choice') as unknown[]).map(String);
  }

  /** The labelled text of one few-shot example (lm-eval `ContextSampler.get_context`). */
  fewshotExample(doc: Doc): string {
    const content = this.docToText(doc);
    const target = this.docToTarget(doc);
    let out =
      typeof content === 'string'
        ? content
        : typeof content === 'number'
          ? this.docToChoice(doc)[content]
          : '';
    if (target !== '') {
      out += this.config.target_delimiter;
      if (Array.isArray(target)) out += String(target[0]);
      else if (typeof target === 'string') out += target;
      else out += String(this.docToChoice(doc)[target as number]);
      out += this.config.fewshot_delimiter;
    }
    return out;
  }

  /**
   * Builds every document's requests. Few-shot examples come from one sampler seeded once
   * per task and drawn in document order, as lm-eval's `build_all_requests` does.
   */
  buildRequests(
    options: { numFewshot?: number; seed?: number; limit?: number } = {},
  ): DocRequests[] {
    const numFewshot = options.numFewshot ?? this.config.num_fewshot ?? 0;
    const docs = options.limit == null ? this.evalDocs : this.evalDocs.slice(0, options.limit);
    let sampler: FewShotSampler | undefined;
    if (numFewshot > 0) {
      const source = this.fewshotDocs();
      if (!source)
        throw new TaskConfigError(
          `task '${this.name}': num_fewshot ${numFewshot} but no split to draw examples from`,
        );
      sampler = new FewShotSampler(source.docs, options.seed ?? 1234, this.config);
    }
    return docs.map((doc, docId) => this.docRequests(doc, docId, numFewshot, sampler));
  }

  private docRequests(
    doc: Doc,
    docId: number,
    numFewshot: number,
    sampler?: FewShotSampler,
  ): DocRequests {
    let context = this.config.description ? applyTemplate(this.config.description, doc) : '';
    if (sampler && numFewshot > 0) {
      for (const shot of sampler.draw(doc, numFewshot)) context += this.fewshotExample(shot);
    }
    const choices = this.docToChoice(doc);
    const delimiter = this.config.target_delimiter;
    const text = this.docToText(doc);
    let requests: LoglikelihoodRequest[];
    let target: unknown;
    let gold: unknown;
    if (this.multipleInput) {
      target = this.docToTarget(doc);
      requests = choices.map((c) => ({
        context: context + c,
        continuation: `${delimiter}${target}`,
      }));
      gold = text;
    } else {
      const example = typeof text === 'number' ? choices[text] : String(text);
      requests = choices.map((c) => ({
        context: context + example,
        continuation: `${delimiter}${c}`,
      }));
      target = this.docToTarget(doc);
      gold = target;
    }
    return { docId, doc, requests, choices, gold: goldIndices(choices, gold), target };
  }
}

/** lm-eval `check_gold_index_error`: indices in range, strings looked up among the choices. */
function goldIndices(choices: string[], gold: unknown): number[] {
  const one = (g: unknown): number => {
    if (typeof g === 'number')
      return Number.isInteger(g) && g >= 0 && g < choices.length ? g : -100;
    if (typeof g === 'string') {
      const i = choices.indexOf(g);
      return i >= 0 ? i : -100;
    }
    return -100;
  };
  return Array.isArray(gold) ? gold.map(one) : [one(gold)];
}

/** Loads a task by built-in name or YAML path, with its local data files. */
export function loadTask(yamlPathOrName: string, options: LoadTaskOptions): Task {
  return new Task(loadTaskConfig(yamlPathOrName), options);
}

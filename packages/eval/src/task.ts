/**
 * A multiple-choice task as lm-eval's `ConfigurableTask` runs it: documents of the evaluated
 * split, `doc_to_text`/`doc_to_target`/`doc_to_choice`, the few-shot context, and the
 * loglikelihood requests of each document (lm_eval/api/task.py).
 */
import { type DataFileSpec, readSplitFile } from './dataset-files.js';
import { TaskConfigError } from './errors.js';
import { FewShotSampler } from './fewshot-sampler.js';
import { applyTemplate } from './jinja-template.js';
import { literalEval } from './python-literal.js';
import { pyWordCount } from './python-whitespace.js';
import { type DocField, FunctionRef, loadTaskConfig, type TaskConfig } from './task-config.js';
import {
  type Doc,
  type DocFunction,
  type ProcessDocsFunction,
  type ProcessResultsFunction,
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

/** The text of one document of a loglikelihood_rolling task. */
export interface RollingRequest {
  docId: number;
  doc: Doc;
  text: string;
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
    const samples = config.fewshot_config?.samples;
    for (const value of [...Object.values(config), samples]) {
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
      this.fewshotSplit,
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
    this.multipleInput = !this.rolling && typeof this.docToText(docs[0]) === 'number';
  }

  /** A loglikelihood_rolling (perplexity) task rather than a multiple-choice one. */
  get rolling(): boolean {
    return this.config.output_type === 'loglikelihood_rolling';
  }

  /** lm-eval's `fewshot_config.split`: its own `split`, else the task's `fewshot_split`. */
  get fewshotSplit(): string | undefined {
    return this.config.fewshot_config?.split ?? this.config.fewshot_split ?? undefined;
  }

  /** Rows of the evaluated split. */
  get evalDocs(): readonly Doc[] {
    return this.splits.get(this.evalSplit)!;
  }

  /**
   * Few-shot source (lm-eval's `fewshot_docs`): the few-shot split, else the hand-written
   * `fewshot_config.samples`, else the first of training, validation, test whose file was given
   * (lm-eval takes the first configured one; here only the splits available locally count).
   * `split` is undefined for `samples`.
   */
  fewshotDocs(): { split: string | undefined; docs: readonly Doc[] } | undefined {
    const c = this.config;
    const own = this.fewshotSplit;
    if (own) {
      const docs = this.splits.get(own);
      if (!docs) {
        throw new TaskConfigError(
          `task '${this.name}' (${c.source}): draws few-shot examples from split '${own}', which has no data file`,
          {
            hint: `pass { dataFiles: { ${own}: 'path/to/${own}.jsonl', ... } }, or use --num-fewshot 0.`,
          },
        );
      }
      return { split: own, docs };
    }
    const samples = c.fewshot_config?.samples;
    if (samples != null) {
      const docs =
        samples instanceof FunctionRef
          ? (this.fns.get(samples.ref) as unknown as () => unknown)()
          : samples;
      if (!Array.isArray(docs) || docs.length === 0) {
        throw new TaskConfigError(
          `task '${this.name}' (${c.source}): fewshot_config.samples gave ${Array.isArray(docs) ? 'no documents' : JSON.stringify(docs)}; it must be a non-empty list of documents`,
        );
      }
      return { split: undefined, docs: docs as Doc[] };
    }
    for (const split of [c.training_split, c.validation_split, c.test_split]) {
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
    if (this.rolling) {
      throw new TaskConfigError(
        `task '${this.name}' is a loglikelihood_rolling task: its requests come from buildRollingRequests()`,
      );
    }
    const numFewshot = options.numFewshot ?? this.config.num_fewshot ?? 0;
    const docs = options.limit == null ? this.evalDocs : this.evalDocs.slice(0, options.limit);
    let sampler: FewShotSampler | undefined;
    if (numFewshot > 0) {
      const source = this.fewshotDocs();
      if (!source)
        throw new TaskConfigError(
          `task '${this.name}': num_fewshot ${numFewshot} but no split to draw examples from`,
        );
      // lm-eval passes the evaluated document to the sampler (to be left out) only when
      // `fewshot_config.split == test_split`, as configured: two unset splits are equal.
      sampler = new FewShotSampler(source.docs, options.seed ?? 1234, {
        sampler: this.config.fewshot_config?.sampler ?? 'default',
        excludeEvalDoc: (this.fewshotSplit ?? null) === (this.config.test_split ?? null),
      });
    }
    const built = docs.map((doc, docId) => this.docRequests(doc, docId, numFewshot, sampler));
    this.checkGold(built);
    return built;
  }

  /**
   * A task none of whose documents has its gold answer among the choices would score 0
   * without a word (lm-eval's upstream piqa.yaml on rows without labels does): an error.
   */
  private checkGold(built: readonly DocRequests[]): void {
    if (built.length === 0 || built.some((d) => d.gold.some((g) => g >= 0))) return;
    const first = built[0];
    const spec = this.config.doc_to_target;
    throw new TaskConfigError(
      `task '${this.name}' (${this.config.source}): no document's gold answer is among its choices; ` +
        `doc_to_target ${JSON.stringify(spec instanceof FunctionRef ? spec.toJSON() : spec)} gives ` +
        `${JSON.stringify(first.target)} for document 0, choices ${JSON.stringify(first.choices)} ` +
        `(document fields: ${Object.keys(first.doc).join(', ')})`,
      {
        code: 'NO_GOLD',
        hint: 'check that the data file has the field doc_to_target names (raw PIQA keeps its labels in valid-labels.lst beside valid.jsonl).',
      },
    );
  }

  /**
   * The texts of a loglikelihood_rolling task (`doc_to_target`, as lm-eval's request
   * `(doc_to_target(doc),)`), with what each document counts for the perplexities.
   */
  buildRollingRequests(options: { limit?: number } = {}): RollingRequest[] {
    const docs = options.limit == null ? this.evalDocs : this.evalDocs.slice(0, options.limit);
    return docs.map((doc, docId) => {
      const text = this.docToTarget(doc);
      if (typeof text !== 'string') {
        throw new TaskConfigError(
          `task '${this.name}': doc_to_target must give the text to score, got ${JSON.stringify(text)} for document ${docId}`,
        );
      }
      return { docId, doc, text };
    });
  }

  /**
   * lm-eval's `process_results` of a rolling task: (log-likelihood, count) per metric. The
   * default counts words (`len(re.split(r"\s+", text))`) and UTF-8 bytes of the scored text;
   * a YAML's `process_results` function (wikitext's counts on the raw page) replaces it.
   */
  rollingResults(doc: Doc, text: string, loglikelihood: number): Record<string, [number, number]> {
    const fn = this.config.process_results;
    const out = fn
      ? (this.fns.get(fn.ref) as ProcessResultsFunction)(doc, [loglikelihood])
      : {
          word_perplexity: [loglikelihood, pyWordCount(text)],
          byte_perplexity: [loglikelihood, Buffer.byteLength(text, 'utf8')],
          bits_per_byte: [loglikelihood, Buffer.byteLength(text, 'utf8')],
        };
    for (const [metric, pair] of Object.entries(out)) {
      if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((x) => typeof x === 'number')) {
        throw new TaskConfigError(
          `task '${this.name}': process_results must give [loglikelihood, count] per metric, got ${metric}: ${JSON.stringify(pair)}`,
        );
      }
    }
    return out as Record<string, [number, number]>;
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

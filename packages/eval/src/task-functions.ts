/**
 * TypeScript equivalents of the Python functions that lm-eval's task YAMLs reference with
 * `!function` (lm_eval/tasks/<task>/*.py), for the built-in tasks. A YAML naming any other
 * function needs it passed in `functions` (see `loadTask`).
 */
import { TaskConfigError } from './errors.js';
import { pyCapitalize } from './python-methods.js';
import { pyStrip } from './python-whitespace.js';
import type { FunctionRef } from './task-config.js';
import { wikitextDetokenize, wikitextProcessResults } from './wikitext.js';

/** A document: one row of the dataset split. */
export type Doc = Record<string, unknown>;
/** A `doc_to_*` function (returns text, an index, a list of choices...). */
export type DocFunction = (doc: Doc) => unknown;
/** A `process_docs` function over a whole split. */
export type ProcessDocsFunction = (docs: Doc[]) => Doc[];
/** A `process_results` function: the document and its results (`[loglikelihood]`) to metrics. */
export type ProcessResultsFunction = (doc: Doc, results: number[]) => Record<string, unknown>;
/** A `fewshot_config.samples` function: the hand-written few-shot documents. */
export type SamplesFunction = () => Doc[];
export type TaskFunction =
  | DocFunction
  | ProcessDocsFunction
  | ProcessResultsFunction
  | SamplesFunction;

const str = (doc: Doc, field: string): string => {
  const v = doc[field];
  if (typeof v !== 'string') {
    throw new TaskConfigError(
      `document field '${field}' must be a string, got ${JSON.stringify(v)}`,
    );
  }
  return v;
};
const strs = (doc: Doc, field: string): string[] => {
  const v = doc[field];
  if (!Array.isArray(v)) {
    throw new TaskConfigError(`document field '${field}' must be a list, got ${JSON.stringify(v)}`);
  }
  return v as string[];
};

const LETTERS = ['a', 'b', 'c', 'd'];

/** logiqa/utils_logiqa.py: "Passage/Question/Choices/A. .../Answer:". */
function logiqaDocToText(doc: Doc): string {
  let prompt = `Passage: ${str(doc, 'context')}\nQuestion: ${str(doc, 'question')}\nChoices:\n`;
  strs(doc, 'options').forEach((option, i) => {
    if (i < LETTERS.length) prompt += `${LETTERS[i].toUpperCase()}. ${option}\n`;
  });
  return `${prompt}Answer:`;
}

function logiqaDocToTarget(doc: Doc): number {
  const label = pyStrip(str(doc, 'label'));
  const i = LETTERS.indexOf(label);
  if (i < 0)
    throw new TaskConfigError(
      `logiqa: label must be one of a, b, c, d, got ${JSON.stringify(label)}`,
    );
  return i;
}

/** logiqa2/utils_logiqa2.py: as logiqa, without the "Choices:" line. */
function logiqa2DocToText(doc: Doc): string {
  let prompt = `Passage: ${str(doc, 'text')}\nQuestion: ${str(doc, 'question')}\n`;
  strs(doc, 'options').forEach((option, i) => {
    if (i < LETTERS.length) prompt += `${LETTERS[i].toUpperCase()}. ${option}\n`;
  });
  return `${prompt}Answer:`;
}

/** super_glue/copa/utils.py: the premise without its period, then "because"/"therefore". */
const copaConvertChoice = (choice: string) => choice.slice(0, 1).toLowerCase() + choice.slice(1);
function copaDocToText(doc: Doc): string {
  const connectors: Record<string, string> = { cause: 'because', effect: 'therefore' };
  const connector = connectors[str(doc, 'question')];
  if (!connector)
    throw new TaskConfigError(
      `copa: question must be 'cause' or 'effect', got ${JSON.stringify(doc.question)}`,
    );
  const premise = pyStrip(str(doc, 'premise'));
  return `${Array.from(premise).slice(0, -1).join('')} ${connector}`;
}
function copaDocToTarget(doc: Doc): string {
  const correct = doc.label === 0 ? str(doc, 'choice1') : str(doc, 'choice2');
  return ` ${copaConvertChoice(correct)}`;
}
function copaDocToChoice(doc: Doc): string[] {
  return [
    ` ${copaConvertChoice(str(doc, 'choice1'))}`,
    ` ${copaConvertChoice(str(doc, 'choice2'))}`,
  ];
}

/** winogrande/preprocess_winogrande.py: the option goes into the context (partial scoring). */
function winograndeDocToText(doc: Doc): number {
  const answerToNum: Record<string, number> = { '1': 0, '2': 1 };
  const n = answerToNum[String(doc.answer)];
  if (n === undefined)
    throw new TaskConfigError(
      `winogrande: answer must be "1" or "2", got ${JSON.stringify(doc.answer)}`,
    );
  return n;
}
function blankIndex(sentence: string): number {
  const i = sentence.indexOf('_');
  if (i < 0)
    throw new TaskConfigError(`winogrande: sentence has no '_' blank: ${JSON.stringify(sentence)}`);
  return i;
}
function winograndeDocToTarget(doc: Doc): string {
  const sentence = str(doc, 'sentence');
  return pyStrip(sentence.slice(blankIndex(sentence) + 1));
}
function winograndeDocToChoice(doc: Doc): string[] {
  const sentence = str(doc, 'sentence');
  const prefix = sentence.slice(0, blankIndex(sentence));
  return [prefix + str(doc, 'option1'), prefix + str(doc, 'option2')];
}

/** hellaswag/utils.py `preprocess`: WikiHow bracket artifacts removed. */
export function hellaswagPreprocess(text: string): string {
  let t = pyStrip(text);
  t = t.replaceAll(' [title]', '. ');
  t = t.replace(/\[.*?\]/g, '');
  return t.replaceAll('  ', ' ');
}
function hellaswagProcessDocs(docs: Doc[]): Doc[] {
  return docs.map((doc) => {
    const ctx = `${str(doc, 'ctx_a')} ${pyCapitalize(str(doc, 'ctx_b'))}`;
    return {
      ...doc,
      query: hellaswagPreprocess(`${str(doc, 'activity_label')}: ${ctx}`),
      choices: strs(doc, 'endings').map(hellaswagPreprocess),
      gold: Number.parseInt(String(doc.label), 10),
    };
  });
}

/** Built-in functions by task name, then by the `!function` reference as written. */
export const BUILTIN_TASK_FUNCTIONS: Record<string, Record<string, TaskFunction>> = {
  logiqa: {
    'utils_logiqa.doc_to_text': logiqaDocToText,
    'utils_logiqa.doc_to_target': logiqaDocToTarget,
  },
  logiqa2: { 'utils_logiqa2.doc_to_text': logiqa2DocToText },
  copa: {
    'utils.doc_to_text': copaDocToText,
    'utils.doc_to_target': copaDocToTarget,
    'utils.doc_to_choice': copaDocToChoice,
  },
  winogrande: {
    'preprocess_winogrande.doc_to_text': winograndeDocToText,
    'preprocess_winogrande.doc_to_target': winograndeDocToTarget,
    'preprocess_winogrande.doc_to_choice': winograndeDocToChoice,
  },
  hellaswag: { 'utils.process_docs': hellaswagProcessDocs },
  wikitext: {
    'preprocess_wikitext.wikitext_detokenizer': wikitextDetokenize,
    'preprocess_wikitext.process_results': wikitextProcessResults,
  },
};

/**
 * Finds the implementation of `!function ref` for a task: user-supplied functions first,
 * then the built-ins of any task along the include chain. Unknown: a clear error.
 */
export function resolveTaskFunction(
  ref: FunctionRef,
  taskChain: readonly string[],
  userFunctions: Readonly<Record<string, TaskFunction>> = {},
  where = 'task YAML',
): TaskFunction {
  const own = userFunctions[ref.ref];
  if (own) return own;
  for (const task of [...taskChain].reverse()) {
    const fn = BUILTIN_TASK_FUNCTIONS[task]?.[ref.ref];
    if (fn) return fn;
  }
  const known = Object.entries(BUILTIN_TASK_FUNCTIONS)
    .map(([task, fns]) => `${task}: ${Object.keys(fns).join(', ')}`)
    .join('; ');
  throw new TaskConfigError(
    `${where}: '!function ${ref.ref}' has no TypeScript equivalent for task ${taskChain.join(' <- ') || '(unnamed)'}. ` +
      `Built-in ones are (${known}). Pass an implementation with loadTask(path, { functions: { '${ref.ref}': (doc) => ... } }).`,
  );
}

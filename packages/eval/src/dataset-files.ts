/**
 * Reading the rows of one dataset split from local files: JSONL/JSON in the schema the
 * task's templates expect (the Hugging Face dataset's rows), or the raw files of PIQA, SciQ,
 * LogiQA and LogiQA 2.0 as their authors distribute them, converted the way the Hugging Face
 * datasets that lm-eval loads convert them (see ../shared/data/README.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { DataFileError } from './errors.js';
import { pyStrip } from './python-whitespace.js';
import type { Doc } from './task-functions.js';

export { DataFileError };

/** Raw formats with a loader of their own. */
export type DataFormat = 'jsonl' | 'json' | 'piqa' | 'sciq' | 'logiqa' | 'logiqa2';

/** One split's file: a path, or a path with its format (and PIQA's labels file). */
export type DataFileSpec = string | { path: string; format?: DataFormat; labels?: string };

/** The raw format used for a task's `dataset_path` when a file is not JSON rows already. */
const RAW_FORMAT_BY_DATASET: Record<string, DataFormat> = {
  piqa: 'piqa',
  'ybisk/piqa': 'piqa',
  'allenai/sciq': 'sciq',
  sciq: 'sciq',
  'baber/piqa': 'piqa',
  'EleutherAI/logiqa': 'logiqa',
  'lucasmccabe/logiqa': 'logiqa',
  'baber/logiqa2': 'logiqa2',
  'datatune/LogiQA2.0': 'logiqa2',
};

function parseJsonLines(text: string, path: string): Doc[] {
  const docs: Doc[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      docs.push(JSON.parse(line) as Doc);
    } catch (err) {
      throw new DataFileError(`${path}:${i + 1}: not a JSON object (${(err as Error).message})`);
    }
  }
  return docs;
}

function parseJsonAny(text: string, path: string): Doc[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(text) as Doc[];
    } catch (err) {
      throw new DataFileError(`${path}: not a JSON array of rows (${(err as Error).message})`);
    }
  }
  return parseJsonLines(text, path);
}

/** PIQA: `valid.jsonl` (goal, sol1, sol2) with the labels in the aligned `valid-labels.lst`. */
function readPiqa(path: string, docs: Doc[], labelsPath?: string): Doc[] {
  const guess = path.replace(/\.jsonl$/, '-labels.lst');
  const lst = labelsPath ?? (existsSync(guess) ? guess : undefined);
  if (!lst) {
    if (docs.every((d) => 'label' in d)) return docs;
    throw new DataFileError(`${path}: PIQA rows (goal, sol1, sol2) without labels`, {
      hint: `put the labels file beside it as ${guess}, or pass { path, labels: 'valid-labels.lst' }.`,
    });
  }
  const labels = readFileSync(lst, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (labels.length !== docs.length) {
    throw new DataFileError(`${lst}: ${labels.length} labels for ${docs.length} rows of ${path}`);
  }
  return docs.map((d, i) => {
    const label = Number(labels[i].trim());
    if (label !== 0 && label !== 1)
      throw new DataFileError(`${lst}:${i + 1}: label must be 0 or 1`);
    return { goal: d.goal, sol1: d.sol1, sol2: d.sol2, label };
  });
}

/** LogiQA: blank-line separated records of answer letter, passage, question, "A.option" lines. */
function readLogiqa(path: string, raw: string): Doc[] {
  const text = raw.replace(/\r\n/g, '\n');
  if (/^\s*[{[]/.test(text)) return parseJsonAny(text, path);
  // As the EleutherAI/logiqa loading script: a space after every period, then strip.
  const normalize = (s: string) => pyStrip(s.replaceAll('.', '. '));
  return text
    .trim()
    .split('\n\n')
    .map((record, i) => {
      const lines = record.split('\n');
      if (lines.length < 4) {
        throw new DataFileError(`${path}: record ${i + 1} has ${lines.length} lines, expected 7`);
      }
      return {
        label: lines[0].trim(),
        context: normalize(lines[1]),
        question: normalize(lines[2]),
        options: lines.slice(3).map((o) => normalize(o.slice(2))),
      };
    });
}

/** Raw PIQA rows: goal, sol1 and sol2, the label kept in a separate `.lst` file. */
const isRawPiqa = (docs: Doc[]): boolean =>
  docs.length > 0 &&
  docs.every((d) => 'goal' in d && 'sol1' in d && 'sol2' in d && !('label' in d));

/** Raw LogiQA: an answer letter alone on the first line, then passage, question, options. */
const isRawLogiqa = (text: string): boolean => /^\s*[a-dA-D][ \t]*\r?\n[^\n]+\n/.test(text);

/**
 * Reads the rows of one split. The format is the spec's, else the one of the YAML's
 * `dataset_path`, else recognised from the data: raw PIQA rows (labels beside them) and raw
 * LogiQA records are converted whatever the YAML calls the dataset (lm-eval's own piqa.yaml
 * names `baber/piqa`); other JSON or JSON lines are taken as rows in the YAML's schema.
 */
export function readSplitFile(spec: DataFileSpec, datasetPath?: string): Doc[] {
  const { path, format, labels } =
    typeof spec === 'string' ? { path: spec, format: undefined, labels: undefined } : spec;
  if (!existsSync(path)) throw new DataFileError(`data file not found: ${path}`);
  const text = readFileSync(path, 'utf8');
  const chosen = format ?? (datasetPath ? RAW_FORMAT_BY_DATASET[datasetPath] : undefined);
  if (chosen === 'logiqa' || (chosen === undefined && isRawLogiqa(text))) {
    return readLogiqa(path, text);
  }
  if (chosen === undefined && text.trim() !== '' && !/^\s*[{[]/.test(text)) {
    throw new DataFileError(`${path}: neither JSON rows nor a raw format this package reads`, {
      hint: 'give JSON lines or a JSON array of rows in the schema of the dataset the task YAML names, or the raw PIQA, SciQ, LogiQA or LogiQA 2.0 files.',
    });
  }
  // SciQ's raw files are JSON arrays, and LogiQA 2.0's JSON lines, of rows in the schema of
  // the Hugging Face datasets lm-eval loads (no conversion: the rows are equal).
  const docs = parseJsonAny(text, path);
  if (chosen === 'piqa' || (chosen === undefined && (labels !== undefined || isRawPiqa(docs)))) {
    return readPiqa(path, docs, labels);
  }
  return docs;
}

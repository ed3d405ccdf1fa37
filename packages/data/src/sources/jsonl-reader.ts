import { MalformedJsonLineError, MissingFieldError } from '../errors.js';
import { readLines, wellFormed } from './byte-streams.js';
import { getField, listFields } from './field-path.js';
import { expandPaths, fileStem } from './files.js';
import type { JsonlSchema, JsonlSource, SourceDocument } from './source.js';

const SCHEMA_FIELDS: Record<JsonlSchema, { text: string; domain?: string }> = {
  // SlimPajama (cerebras/SlimPajama-627B) keeps RedPajama's set name in meta.
  slimpajama: { text: 'text', domain: 'meta.redpajama_set_name' },
  redpajama: { text: 'text', domain: 'meta.redpajama_set_name' },
  // Dolma (allenai/dolma, docs/data-format.md): {id, text, source, added, created, metadata}.
  dolma: { text: 'text', domain: 'source' },
  text: { text: 'text' },
};

export const JSONL_EXTENSIONS = [
  '.jsonl',
  '.json',
  '.ndjson',
  '.jsonl.gz',
  '.jsonl.zst',
  '.jsonl.zstd',
  '.json.gz',
  '.json.zst',
];

export interface ReadCounters {
  /** Lines that were not JSON objects, skipped by `onMalformedLine: 'skip'`. */
  skippedLines: number;
  /** Documents whose text had invalid UTF-8 (or unpaired surrogates), replaced by U+FFFD. */
  invalidUtf8Documents?: number;
}

/** Counts a document whose text was not valid Unicode as read. */
export function countInvalid(counters: ReadCounters, valid: boolean): void {
  if (!valid) counters.invalidUtf8Documents = (counters.invalidUtf8Documents ?? 0) + 1;
}

/** Documents of JSONL files (plain, gzip or zstd), one JSON object per line. */
export async function* readJsonl(
  source: JsonlSource,
  counters: ReadCounters,
): AsyncGenerator<SourceDocument> {
  const schema = SCHEMA_FIELDS[source.schema ?? 'text'];
  const textField = source.textField ?? schema.text;
  const domainField =
    source.domain === undefined ? (source.domainField ?? schema.domain) : undefined;
  const skip = source.onMalformedLine === 'skip';
  for (const file of expandPaths(source.path, JSONL_EXTENSIONS)) {
    const fixedDomain = source.domain ?? (domainField === undefined ? fileStem(file) : undefined);
    for await (const [line, lineNo, validUtf8] of readLines(file)) {
      if (line.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (error) {
        if (skip) {
          counters.skippedLines++;
          continue;
        }
        throw new MalformedJsonLineError(file, lineNo, (error as Error).message);
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        if (skip) {
          counters.skippedLines++;
          continue;
        }
        throw new MalformedJsonLineError(file, lineNo, 'the line is JSON but not an object');
      }
      const text = getField(record, textField);
      if (typeof text !== 'string') {
        throw new MissingFieldError(
          file,
          lineNo,
          textField,
          listFields(record),
          text === undefined ? 'not found' : `is ${typeof text}, not a string`,
        );
      }
      let domain = fixedDomain;
      if (domain === undefined) {
        const value = getField(record, domainField as string);
        if (typeof value !== 'string' || value === '') {
          throw new MissingFieldError(
            file,
            lineNo,
            domainField as string,
            listFields(record),
            value === undefined ? 'not found' : 'is not a non-empty string',
          );
        }
        domain = value;
      }
      countInvalid(counters, validUtf8 && wellFormed(text));
      yield { text, domain, file, line: lineNo };
    }
  }
}

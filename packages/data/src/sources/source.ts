// Source specifications: where documents come from and how to find each one's text and domain.

/** A document as read from a source, before tokenization. */
export interface SourceDocument {
  text: string;
  domain: string;
  /** File it came from (or a label for in-memory documents) and its 1-based line or row. */
  file: string;
  line: number;
}

/** A document given in memory (e.g. by defaultCorpus()). */
export interface CorpusDocument {
  text: string;
  domain: string;
  /** Where it came from, for error messages. */
  source?: string;
}

/**
 * JSONL schemas with known field names:
 * - 'slimpajama' / 'redpajama': text in `text`, domain in `meta.redpajama_set_name`
 * - 'dolma': text in `text`, domain in `source`
 * - 'text': text in `text`, domain fixed per file (`domain`, default the file name's stem)
 */
export type JsonlSchema = 'slimpajama' | 'redpajama' | 'dolma' | 'text';

/** Policy for lines that are not valid JSON: throw (default) or skip and count them. */
export type MalformedLinePolicy = 'error' | 'skip';

export interface JsonlSource {
  type: 'jsonl';
  /** Files or folders (folders: every *.jsonl, *.json, *.jsonl.gz, *.jsonl.zst inside, sorted). */
  path: string | string[];
  schema?: JsonlSchema;
  /** Dotted path of the text field; overrides the schema's. */
  textField?: string;
  /** Dotted path of the domain field; overrides the schema's. */
  domainField?: string;
  /** Fixed domain of every document of these files (wins over any domain field). */
  domain?: string;
  onMalformedLine?: MalformedLinePolicy;
}

export interface TextSource {
  type: 'text';
  /** Files or folders (folders: every file with one of `extensions` inside, recursively, sorted). */
  path: string | string[];
  /** Fixed domain; default the file name's stem. */
  domain?: string;
  /** One document per file (default) or per paragraph (split on blank lines). */
  split?: 'file' | 'paragraph';
  /** File name endings read from folders; default ['.txt', '.md']. */
  extensions?: string[];
}

export interface ParquetSource {
  type: 'parquet';
  path: string | string[];
  /** Text column; default 'text' (FineWeb, SlimPajama exports). */
  textColumn?: string;
  /** Domain column; when absent the domain is `domain` or the file name's stem. */
  domainColumn?: string;
  domain?: string;
}

export interface DocumentsSource {
  type: 'documents';
  documents: Iterable<CorpusDocument> | AsyncIterable<CorpusDocument>;
  /** Label used in messages; default 'documents'. */
  name?: string;
}

export type SourceSpec = JsonlSource | TextSource | ParquetSource | DocumentsSource;

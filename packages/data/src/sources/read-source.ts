import { invalidOption } from '../errors.js';
import { wellFormed } from './byte-streams.js';
import { countInvalid, type ReadCounters, readJsonl } from './jsonl-reader.js';
import { readParquet } from './parquet-reader.js';
import type { SourceDocument, SourceSpec } from './source.js';
import { readText } from './text-reader.js';

/**
 * Every document of every source, in order. Malformed lines skipped by policy and documents
 * with invalid UTF-8 are counted in `counters`.
 */
export async function* readSources(
  sources: readonly SourceSpec[],
  counters: ReadCounters = { skippedLines: 0 },
): AsyncGenerator<SourceDocument> {
  for (const source of sources) {
    switch (source?.type) {
      case 'jsonl':
        yield* readJsonl(source, counters);
        break;
      case 'text':
        yield* readText(source, counters);
        break;
      case 'parquet':
        yield* readParquet(source, counters);
        break;
      case 'documents': {
        const name = source.name ?? 'documents';
        let line = 0;
        for await (const doc of source.documents) {
          line++;
          if (typeof doc?.text !== 'string' || typeof doc.domain !== 'string') {
            throw invalidOption(`${name}[${line - 1}]`, doc, '{ text: string, domain: string }');
          }
          countInvalid(counters, wellFormed(doc.text));
          yield { text: doc.text, domain: doc.domain, file: doc.source ?? name, line };
        }
        break;
      }
      default:
        throw invalidOption(
          'source.type',
          (source as { type?: unknown })?.type,
          "'jsonl', 'text', 'parquet' or 'documents'",
        );
    }
  }
}

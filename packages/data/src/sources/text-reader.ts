import { isUtf8 } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { expandPaths, fileStem } from './files.js';
import { countInvalid, type ReadCounters } from './jsonl-reader.js';
import type { SourceDocument, TextSource } from './source.js';

/** Documents of plain UTF-8 text files: one per file, or one per paragraph. */
export async function* readText(
  source: TextSource,
  counters: ReadCounters = { skippedLines: 0 },
): AsyncGenerator<SourceDocument> {
  for (const file of expandPaths(source.path, source.extensions ?? ['.txt', '.md'])) {
    const domain = source.domain ?? fileStem(file);
    const bytes = await readFile(file);
    const valid = isUtf8(bytes);
    const text = bytes.toString('utf8');
    if (source.split === 'paragraph') {
      // Paragraphs are separated by one or more blank lines; line numbers point at their start.
      let line = 1;
      for (const part of text.split(/(\r?\n(?:[ \t]*\r?\n)+)/)) {
        if (/^\r?\n/.test(part)) {
          line += part.split('\n').length - 1;
          continue;
        }
        if (part.trim() !== '') {
          // a paragraph of a file with invalid bytes holds U+FFFD where they were
          countInvalid(counters, valid || !part.includes('\uFFFD'));
          yield { text: part, domain, file, line };
        }
        line += part.split('\n').length - 1;
      }
    } else {
      countInvalid(counters, valid);
      yield { text, domain, file, line: 1 };
    }
  }
}

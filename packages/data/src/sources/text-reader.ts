import { readFile } from 'node:fs/promises';
import { expandPaths, fileStem } from './files.js';
import type { SourceDocument, TextSource } from './source.js';

/** Documents of plain UTF-8 text files: one per file, or one per paragraph. */
export async function* readText(source: TextSource): AsyncGenerator<SourceDocument> {
  for (const file of expandPaths(source.path, source.extensions ?? ['.txt', '.md'])) {
    const domain = source.domain ?? fileStem(file);
    const text = await readFile(file, 'utf8');
    if (source.split === 'paragraph') {
      // Paragraphs are separated by one or more blank lines; line numbers point at their start.
      let line = 1;
      for (const part of text.split(/(\r?\n(?:[ \t]*\r?\n)+)/)) {
        if (/^\r?\n/.test(part)) {
          line += part.split('\n').length - 1;
          continue;
        }
        if (part.trim() !== '') yield { text: part, domain, file, line };
        line += part.split('\n').length - 1;
      }
    } else {
      yield { text, domain, file, line: 1 };
    }
  }
}

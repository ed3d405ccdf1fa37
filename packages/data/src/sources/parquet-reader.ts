import { isUtf8 } from 'node:buffer';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DataError, MissingFieldError } from '../errors.js';
import { expandPaths, fileStem } from './files.js';
import { countInvalid, type ReadCounters } from './jsonl-reader.js';
import type { ParquetSource, SourceDocument } from './source.js';

/**
 * Documents of Parquet files (e.g. FineWeb's `text` column) through hyparquet, with
 * hyparquet-compressors for zstd, brotli, lz4 and snappy pages. Rows are read one row group at
 * a time, so a file larger than memory streams.
 */
export async function* readParquet(
  source: ParquetSource,
  counters: ReadCounters = { skippedLines: 0 },
): AsyncGenerator<SourceDocument> {
  const textColumn = source.textColumn ?? 'text';
  const decoder = new TextDecoder();
  // Strings are checked as hyparquet decodes them (those of a domain column too, which are
  // short names; in practice the count is the text column's).
  const parsers = {
    stringFromBytes: (bytes: Uint8Array) => {
      if (bytes) countInvalid(counters, isUtf8(bytes));
      return bytes && decoder.decode(bytes);
    },
  };
  for (const file of expandPaths(source.path, ['.parquet'])) {
    const buffer = await asyncBufferFromFile(file);
    let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
      throw new DataError(
        'UNSUPPORTED_INPUT',
        `${file}: not a Parquet file (${(error as Error).message})`,
        {
          cause: error,
          hint: 'a Parquet file starts and ends with "PAR1"; give a file of another format its own type (jsonl:<path> or text:<path>) or extension',
        },
      );
    }
    const columnNames = metadata.schema.slice(1).map((s) => s.name);
    for (const column of [textColumn, source.domainColumn]) {
      if (column !== undefined && !columnNames.includes(column)) {
        throw new MissingFieldError(file, 0, column, columnNames, 'is not a column');
      }
    }
    const columns = source.domainColumn ? [textColumn, source.domainColumn] : [textColumn];
    const fixedDomain = source.domain ?? (source.domainColumn ? undefined : fileStem(file));
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = await parquetReadObjects({
        file: buffer,
        metadata,
        columns,
        rowStart,
        rowEnd,
        compressors,
        parsers,
      });
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        const text = row[textColumn];
        const line = rowStart + i + 1;
        if (typeof text !== 'string') {
          if (text == null) continue; // a null text cell is an absent document
          throw new MissingFieldError(file, line, textColumn, columnNames, 'is not a string');
        }
        const domain = fixedDomain ?? String(row[source.domainColumn as string]);
        yield { text, domain, file, line };
      }
      rowStart = rowEnd;
    }
  }
}

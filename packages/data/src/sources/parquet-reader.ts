import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { MissingFieldError } from '../errors.js';
import { expandPaths, fileStem } from './files.js';
import type { ParquetSource, SourceDocument } from './source.js';

/**
 * Documents of Parquet files (e.g. FineWeb's `text` column) through hyparquet, with
 * hyparquet-compressors for zstd, brotli, lz4 and snappy pages. Rows are read one row group at
 * a time, so a file larger than memory streams.
 */
export async function* readParquet(source: ParquetSource): AsyncGenerator<SourceDocument> {
  const textColumn = source.textColumn ?? 'text';
  for (const file of expandPaths(source.path, ['.parquet'])) {
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
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

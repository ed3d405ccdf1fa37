import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { type DatasetIndex, INDEX_FILE, readIndex } from '../shard/dataset-index.js';
import type { SourceSpec } from '../sources/source.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

// The output folder of prepare(): what is already there, and what may be replaced.

/** Shard file names as prepare() writes them: <split>-<domain id>-<domain>-<index>.bin. */
const SHARD_NAME = /^(train|validation)-\d{4}-[A-Za-z0-9._-]+-\d{5}\.bin$/;

/**
 * Refuses to write into a folder that holds a dataset of another tokenizer unless `overwrite`:
 * its shards would be replaced one by one, and every run trained on it would then fail or,
 * worse, read other tokens. With `overwrite` the old index is removed first, so an interrupted
 * prepare() leaves a folder that opens as "no dataset" rather than an index over mixed shards.
 */
export function claimOutputFolder(outDir: string, tokenizer: Tokenizer, overwrite: boolean): void {
  const path = join(outDir, INDEX_FILE);
  if (!existsSync(path)) return;
  let existing: DatasetIndex;
  try {
    existing = readIndex(path);
  } catch {
    return; // a damaged index is rewritten at the end, as after an interrupted prepare()
  }
  const old = existing.tokenizer;
  if (old.name === tokenizer.name && old.vocabSize === tokenizer.vocabSize) return;
  if (!overwrite) {
    throw new DataError(
      'TOKENIZER_MISMATCH',
      `${outDir} holds a dataset tokenized with ${old.name} (vocabulary ${old.vocabSize}), not with ${tokenizer.name} (vocabulary ${tokenizer.vocabSize}): writing here would replace its shards under every run trained on it`,
      { hint: 'prepare into another folder, or pass overwrite: true to replace that dataset' },
    );
  }
  rmSync(path, { force: true });
}

/** Deletes shard files of an earlier dataset in `outDir` that `index` does not list. */
export function removeUnlistedShards(outDir: string, index: DatasetIndex): number {
  const listed = new Set(index.shards.map((s) => s.file));
  let removed = 0;
  for (const name of readdirSync(outDir)) {
    if (SHARD_NAME.test(name) && !listed.has(name)) {
      rmSync(join(outDir, name), { force: true });
      removed++;
    }
  }
  return removed;
}

/** The error of sources that yielded no document with text. */
export function emptySourcesError(
  sources: readonly SourceSpec[],
  emptyDocuments: number,
): DataError {
  const described = sources.map((s) =>
    s.type === 'documents'
      ? `${s.name ?? 'documents'} (in memory)`
      : `${s.type}:${Array.isArray(s.path) ? s.path.join(', ') : s.path}`,
  );
  const found =
    emptyDocuments > 0
      ? `${emptyDocuments} document${emptyDocuments === 1 ? '' : 's'}, all with empty text`
      : 'no documents';
  return new DataError('EMPTY_SOURCE', `the sources hold ${found}: ${described.join('; ')}`, {
    hint:
      'check the paths and each source type: a folder is searched for .jsonl/.json/.jsonl.gz/.jsonl.zst (jsonl), .txt/.md (text) or .parquet files, ' +
      'and a JSONL record keeps its text in the schema\'s field ("text" unless textField says otherwise)',
  });
}

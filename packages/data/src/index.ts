// @lrw/data: multi-domain corpora -> tokenized shards -> a deterministic, resumable token stream.

// The seeded generator lives in @lrw/random (shared with @lrw/theory); `Rng` is its name here.
export { hashSeed, permutation, type RngState, Xoshiro128 as Rng } from '@lrw/random';
export { crc32 } from './checksum.js';
export {
  DEFAULT_CORPUS_PACKAGES,
  type DefaultCorpus,
  type DefaultCorpusOptions,
  type DefaultDomain,
  defaultCorpus,
} from './corpus/default-corpus.js';
export { Dataset, openDataset, type StoredDocument } from './dataset.js';
export {
  DataError,
  type DataErrorCode,
  MalformedJsonLineError,
  MissingFieldError,
  MissingPackageError,
  ShardChecksumError,
  ShardFormatError,
  ShardMissingError,
  UnknownDomainError,
} from './errors.js';
export { type PrepareOptions, type PrepareResult, prepare } from './prepare/prepare.js';
export { consoleProgress, type PrepareProgress } from './prepare/progress.js';
export type { BudgetOptions, ValidationOptions } from './prepare/split-plan.js';
export type { DatasetIndex, DomainStats, ShardEntry, Split } from './shard/dataset-index.js';
export {
  readShard,
  SHARD_VERSION,
  type ShardData,
  type ShardHeader,
} from './shard/shard-format.js';
export type { VerifyOptions, VerifyResult } from './shard/verify-dataset.js';
export { readSources } from './sources/read-source.js';
export { SLIMPAJAMA_DOMAINS, type SlimPajamaDomain } from './sources/slimpajama.js';
export type {
  CorpusDocument,
  DocumentsSource,
  JsonlSchema,
  JsonlSource,
  MalformedLinePolicy,
  ParquetSource,
  SourceDocument,
  SourceSpec,
  TextSource,
} from './sources/source.js';
export type {
  Batch,
  ExhaustionPolicy,
  StreamOptions,
  StreamState,
} from './stream/batch-builder.js';
export type { Packing } from './stream/shard-samples.js';
export { type StreamStats, TokenStream } from './stream/token-stream.js';
export {
  createTokenizer,
  END_OF_TEXT,
  type Tokenizer,
  type TokenizerSpec,
} from './tokenizers/tokenizer.js';

/** The package name, as published. */
export const packageName = '@lrw/data';

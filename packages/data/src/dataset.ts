import { join } from 'node:path';
import { invalidOption, UnknownDomainError } from './errors.js';
import { type DatasetIndex, INDEX_FILE, readIndex, type Split } from './shard/dataset-index.js';
import { readShard } from './shard/shard-format.js';
import { type VerifyOptions, type VerifyResult, verifyDataset } from './shard/verify-dataset.js';
import type { StreamOptions } from './stream/batch-builder.js';
import { datasetId } from './stream/batch-builder.js';
import { SAMPLE_ID_SHARD_FACTOR } from './stream/shard-samples.js';
import { TokenStream } from './stream/token-stream.js';
import { createTokenizer, type Tokenizer } from './tokenizers/tokenizer.js';

/** A tokenized document as stored (without end-of-text ids). */
export interface StoredDocument {
  domain: string;
  domainId: number;
  tokens: Uint16Array | Uint32Array;
  /** Shard file and the document's index in it. */
  file: string;
  index: number;
}

/** A prepared dataset folder: its index, its domains and streams over it. */
export class Dataset {
  constructor(
    readonly dir: string,
    readonly index: DatasetIndex,
  ) {}

  /**
   * Identity of the content: a checksum of the shard names and their checksums (the `dataset`
   * a stream state records), so a checkpoint can tell its data from other data.
   */
  get id(): string {
    return datasetId(this.index);
  }

  /** Domain names; a domain id is an index into this list. */
  get domains(): readonly string[] {
    return this.index.domains;
  }

  /** Vocabulary size and end-of-text id of the tokenizer the shards were made with. */
  get vocabSize(): number {
    return this.index.tokenizer.vocabSize;
  }

  get eotId(): number {
    return this.index.tokenizer.eotId;
  }

  /** The tokenizer the dataset was prepared with (for decoding). */
  tokenizer(): Promise<Tokenizer> {
    return createTokenizer(this.index.tokenizer.spec);
  }

  /**
   * Reads every shard and checks it against its checksums and the index (present, complete,
   * unchanged); throws a DataError naming the first bad file. Reads the whole dataset once.
   */
  verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    return verifyDataset(this.dir, this.index, options);
  }

  /** A deterministic, resumable batch stream; see {@link StreamOptions}. */
  stream(options: StreamOptions): TokenStream {
    return new TokenStream(this.index, this.dir, options);
  }

  /**
   * Where a batch's sample id points: the shard (file, split, domain) and the sample's index in
   * it, e.g. to look at the documents that receive the largest weights.
   */
  describeSample(sampleId: number): {
    file: string;
    split: Split;
    domain: string;
    sampleIndex: number;
  } {
    const ordinal = Math.floor(sampleId / SAMPLE_ID_SHARD_FACTOR);
    const entry = this.index.shards[ordinal];
    if (!Number.isInteger(sampleId) || sampleId < 0 || !entry) {
      throw invalidOption(
        'sampleId',
        sampleId,
        `a sample id of this dataset (shard ordinal < ${this.index.shards.length})`,
      );
    }
    return {
      file: entry.file,
      split: entry.split,
      domain: entry.domain,
      sampleIndex: sampleId - ordinal * SAMPLE_ID_SHARD_FACTOR,
    };
  }

  /** Every stored document of a split (optionally one domain), in stored order, verified. */
  *documents(split: Split = 'train', domain?: string): Generator<StoredDocument> {
    if (split !== 'train' && split !== 'validation')
      throw invalidOption('split', split, "'train' or 'validation'");
    if (domain !== undefined && !this.index.domains.includes(domain)) {
      throw new UnknownDomainError(domain, this.index.domains, 'documents()');
    }
    for (const entry of this.index.shards) {
      if (entry.split !== split || (domain !== undefined && entry.domain !== domain)) continue;
      const shard = readShard(join(this.dir, entry.file));
      for (let d = 0; d < shard.header.numDocs; d++) {
        yield {
          domain: this.index.domains[shard.domainIds[d]],
          domainId: shard.domainIds[d],
          tokens: shard.tokens.subarray(shard.docOffsets[d], shard.docOffsets[d + 1]),
          file: entry.file,
          index: d,
        };
      }
    }
  }
}

/** Opens a folder written by prepare() (reads and verifies its index). */
export async function openDataset(dir: string): Promise<Dataset> {
  return new Dataset(dir, readIndex(join(dir, INDEX_FILE)));
}

import type { Dataset } from '@lrw/data';
import type { TokenBatch } from '@lrw/eval';

export interface ValidationBatchOptions {
  batchSize: number;
  seqLen: number;
  /**
   * Batch budget of one evaluation, split evenly among the domains with validation data
   * (ceil(maxBatches / domains), at least 1 each); default: every validation batch.
   */
  maxBatches?: number;
}

/** Domains with validation tokens, in the dataset's domain order. */
export function validationDomains(dataset: Pick<Dataset, 'domains' | 'index'>): string[] {
  const tokens = new Map<string, number>();
  for (const s of dataset.index.shards) {
    if (s.split === 'validation') tokens.set(s.domain, (tokens.get(s.domain) ?? 0) + s.tokens);
  }
  return dataset.domains.filter((d) => (tokens.get(d) ?? 0) > 0);
}

/** Validation batches of each domain (from its own stream) under the per-domain budget. */
export function validationBudget(domains: number, maxBatches: number | undefined): number {
  if (maxBatches === undefined || domains === 0) return Infinity;
  return Math.max(1, Math.ceil(maxBatches / domains));
}

/**
 * The validation pass of an evaluation: each domain's validation split on its own (a stream
 * with that domain's weight 1, unshuffled, seed 0), one domain after another, up to the
 * per-domain budget. With the natural mixture a limited number of batches can miss a small
 * domain altogether; this way every domain with validation data is measured, deterministically,
 * and @lrw/eval's overall number over all the batches is the token-weighted aggregate of the
 * per-domain ones.
 */
export async function* validationBatches(
  dataset: Dataset,
  options: ValidationBatchOptions,
): AsyncGenerator<TokenBatch> {
  const domains = validationDomains(dataset);
  const perDomain = validationBudget(domains.length, options.maxBatches);
  for (const domain of domains) {
    const stream = validationStream(dataset, domain, options);
    try {
      for (let n = 0; n < perDomain; n++) {
        const batch = await stream.next();
        if (batch === null) break;
        yield batch;
      }
    } finally {
      await stream.close();
    }
  }
}

/**
 * Opens (and closes) the validation stream of every domain an evaluation reads, so that data
 * that cannot give one (no sample of seqLen + 1 tokens in a domain's validation split) is an
 * error before the first step rather than at the first evaluation.
 */
export async function checkValidationStreams(
  dataset: Dataset,
  options: Pick<ValidationBatchOptions, 'batchSize' | 'seqLen'>,
): Promise<void> {
  for (const domain of validationDomains(dataset)) {
    await validationStream(dataset, domain, options).close();
  }
}

/** One domain's validation split, in stored order (the stream opening checks it has samples). */
function validationStream(
  dataset: Dataset,
  domain: string,
  options: Pick<ValidationBatchOptions, 'batchSize' | 'seqLen'>,
) {
  return dataset.stream({
    split: 'validation',
    batchSize: options.batchSize,
    seqLen: options.seqLen,
    seed: 0,
    shuffle: false,
    prefetch: 0,
    mixture: { [domain]: 1 },
  });
}

import { hashSeed, permutation, Xoshiro128 } from '@lrw/random';
import { invalidOption } from '../errors.js';

/** Held-out documents per domain: a fraction of each domain's documents, or a fixed count. */
export interface ValidationOptions {
  /** Fraction of each domain's documents held out (default 0.05 when `documents` is unset). */
  fraction?: number;
  /** Exact number of documents held out per domain (wins over `fraction`). */
  documents?: number;
}

/** Per-domain caps applied in reading order, before the split. */
export interface BudgetOptions {
  maxDocumentsPerDomain?: number;
  maxBytesPerDomain?: number;
}

/**
 * How many documents of a domain of n are held out: `documents`, or round(fraction * n) but
 * at least 1 when the fraction is positive and n >= 2; always leaving one training document.
 */
export function validationCount(n: number, v: ValidationOptions): number {
  if (v.documents !== undefined) {
    if (!Number.isInteger(v.documents) || v.documents < 0) {
      throw invalidOption('validation.documents', v.documents, 'an integer >= 0');
    }
    return Math.max(0, Math.min(v.documents, n - 1));
  }
  const fraction = v.fraction ?? 0.05;
  if (!(fraction >= 0 && fraction < 1)) {
    throw invalidOption('validation.fraction', fraction, 'a number in [0, 1)');
  }
  let k = Math.round(fraction * n);
  if (fraction > 0 && k === 0 && n >= 2) k = 1;
  return Math.max(0, Math.min(k, n - 1));
}

/**
 * Which of a domain's n documents (in reading order) are held out: a seeded random subset of
 * size validationCount(n), so the split depends only on (seed, domain name, n).
 */
export function validationMask(
  n: number,
  domain: string,
  seed: number,
  v: ValidationOptions,
): Uint8Array {
  const k = validationCount(n, v);
  const mask = new Uint8Array(n);
  const order = permutation(n, new Xoshiro128(hashSeed(seed, 'validation', domain)));
  for (let i = 0; i < k; i++) mask[order[i]] = 1;
  return mask;
}

/** Admits documents while their domain is under its caps (a document that crosses the byte cap is the last). */
export class DomainBudget {
  private readonly docs = new Map<string, number>();
  private readonly bytes = new Map<string, number>();

  constructor(private readonly options: BudgetOptions) {
    for (const key of ['maxDocumentsPerDomain', 'maxBytesPerDomain'] as const) {
      const value = options[key];
      if (value !== undefined && !(value > 0)) throw invalidOption(key, value, 'a number > 0');
    }
  }

  admit(domain: string, textBytes: number): boolean {
    const docs = this.docs.get(domain) ?? 0;
    const bytes = this.bytes.get(domain) ?? 0;
    if (docs >= (this.options.maxDocumentsPerDomain ?? Number.POSITIVE_INFINITY)) return false;
    if (bytes >= (this.options.maxBytesPerDomain ?? Number.POSITIVE_INFINITY)) return false;
    this.docs.set(domain, docs + 1);
    this.bytes.set(domain, bytes + textBytes);
    return true;
  }
}

/**
 * Static domain mixtures of the paper's Table 3, used with LinUpper (spec section 7). Domain
 * order of SlimPajama-6B as in the paper: arxiv, book, cc, c4, github, stackexchange, wikipedia.
 * DoGE's vector sums to 1.000; DoReMi's to 1.00006 as printed; `normalizeDomainWeights` makes
 * either exact.
 */
import { SLIMPAJAMA_DOMAINS } from '@lrw/data';

export { SLIMPAJAMA_DOMAINS };

export const STATIC_DOMAIN_MIXTURES = {
  doge: {
    arxiv: 0.088,
    book: 0.045,
    cc: 0.269,
    c4: 0.214,
    github: 0.07,
    stackexchange: 0.166,
    wikipedia: 0.148,
  },
  doremi: {
    arxiv: 0.04235,
    book: 0.08201,
    cc: 0.381,
    c4: 0.1141,
    github: 0.0654,
    stackexchange: 0.0847,
    wikipedia: 0.2305,
  },
} as const satisfies Record<string, Record<(typeof SLIMPAJAMA_DOMAINS)[number], number>>;

export type StaticMixtureName = keyof typeof STATIC_DOMAIN_MIXTURES;

/** Weights scaled to sum to 1 (the caller has checked they are finite, >= 0, not all 0). */
export function normalizeDomainWeights(weights: Record<string, number>): Record<string, number> {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, v / total]));
}

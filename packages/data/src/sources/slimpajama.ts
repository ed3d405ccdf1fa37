/**
 * The seven domains of SlimPajama-6B (DKYoon/SlimPajama-6B, the paper's corpus), by the names the
 * lrw tools use for them, in the order of the paper's Table 3 mixtures (spec reweighting.md
 * section 7): arxiv, book, cc, c4, github, stackexchange, wikipedia.
 */
export const SLIMPAJAMA_DOMAINS = [
  'arxiv',
  'book',
  'cc',
  'c4',
  'github',
  'stackexchange',
  'wikipedia',
] as const;

export type SlimPajamaDomain = (typeof SLIMPAJAMA_DOMAINS)[number];

import type { TrainerConfig } from './config.js';
import { normalizeDomainWeights, STATIC_DOMAIN_MIXTURES } from './domain-mixtures.js';
import { TrainerError } from './trainer-error.js';

/** SlimPajama's `meta.redpajama_set_name` values, as @lrw/data names the domains. */
const REDPAJAMA_NAMES: Record<string, string> = {
  redpajamaarxiv: 'arxiv',
  redpajamabook: 'book',
  redpajamacommoncrawl: 'cc',
  redpajamac4: 'c4',
  redpajamagithub: 'github',
  redpajamastackexchange: 'stackexchange',
  redpajamawikipedia: 'wikipedia',
};

/** The short mixture key of a dataset domain name (`RedPajamaArXiv` -> `arxiv`). */
function shortName(domain: string): string {
  const key = domain.toLowerCase();
  return REDPAJAMA_NAMES[key] ?? key;
}

/** Whether the dataset has SlimPajama's 7 domains, which the static DoGE / DoReMi vectors name. */
export function hasSlimPajamaDomains(domains: readonly string[]): boolean {
  const short = new Set(domains.map(shortName));
  return Object.keys(STATIC_DOMAIN_MIXTURES.doge).every((d) => short.has(d));
}

/**
 * The data stream's mixture for `config.domainWeights` over the dataset's domains: 'uniform',
 * the static DoGE / DoReMi vectors of the paper's Table 3 (spec section 7; SlimPajama domains,
 * named either `arxiv` or `RedPajamaArXiv`), or explicit weights by domain name.
 */
export function streamMixture(
  domainWeights: TrainerConfig['domainWeights'],
  domains: readonly string[],
): Record<string, number> | 'uniform' {
  if (domainWeights === 'uniform') return 'uniform';
  const given: Record<string, number> =
    typeof domainWeights === 'string' ? STATIC_DOMAIN_MIXTURES[domainWeights] : domainWeights;
  const byShort = new Map(Object.entries(given).map(([k, v]) => [shortName(k), v]));
  const unknown = Object.keys(given).filter(
    (k) => !domains.some((d) => shortName(d) === shortName(k)),
  );
  if (unknown.length > 0) {
    const what =
      typeof domainWeights === 'string' ? `the ${domainWeights} mixture` : 'domainWeights';
    throw new TrainerError(
      'invalid-config',
      `domainWeights: ${what} names ${unknown.map((u) => `"${u}"`).join(', ')}, which the dataset does not have (its domains: ${domains.join(', ')}).`,
      typeof domainWeights === 'string'
        ? 'the DoGE and DoReMi vectors are for SlimPajama\'s 7 domains; compute weights for this dataset with `lrw doremi` / `lrw doge` (then --domain-weights <their domain-weights.json>), or use "uniform" or explicit weights.'
        : "name only the dataset's domains (a domain left out gets weight 0).",
    );
  }
  const out: Record<string, number> = {};
  for (const d of domains) out[d] = byShort.get(shortName(d)) ?? 0;
  return normalizeDomainWeights(out);
}

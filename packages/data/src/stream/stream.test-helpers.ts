import { Xoshiro128 } from '@lrw/random';
import { prepare } from '../prepare/prepare.js';
import { SLIMPAJAMA_DOMAINS } from '../sources/slimpajama.js';
import type { CorpusDocument } from '../sources/source.js';

/** Distinct synthetic documents per domain (deterministic), of 20..200 characters. */
export function syntheticDocuments(
  perDomain: number,
  domains: readonly string[] = SLIMPAJAMA_DOMAINS,
): CorpusDocument[] {
  const rng = new Xoshiro128(12345);
  const words = [
    'alpha',
    'beta',
    'gamma',
    'delta',
    'epsilon',
    'zeta',
    'eta',
    'theta',
    'iota',
    'kappa',
  ];
  const docs: CorpusDocument[] = [];
  for (let i = 0; i < perDomain; i++) {
    for (const domain of domains) {
      let text = `${domain} document ${i}:`;
      const n = 3 + rng.nextInt(30);
      for (let w = 0; w < n; w++) text += ` ${words[rng.nextInt(words.length)]}`;
      docs.push({ text: `${text}.`, domain });
    }
  }
  return docs;
}

/** A byte-tokenized dataset of synthetic documents, several shards per domain. */
export async function syntheticDataset(dir: string, perDomain = 60): Promise<void> {
  await prepare({
    sources: [{ type: 'documents', documents: syntheticDocuments(perDomain) }],
    outDir: dir,
    tokenizer: 'byte',
    workers: 0,
    shardTextBytes: 1500,
    validation: { fraction: 0.1 },
    domains: SLIMPAJAMA_DOMAINS,
  });
}

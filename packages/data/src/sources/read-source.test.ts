import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, MalformedJsonLineError, MissingFieldError } from '../errors.js';
import { fixture, tempDir } from '../fixtures.test-helpers.js';
import { readSources } from './read-source.js';
import type { SourceDocument, SourceSpec } from './source.js';

async function collect(
  sources: SourceSpec[],
  counters = { skippedLines: 0 },
): Promise<SourceDocument[]> {
  const out: SourceDocument[] = [];
  for await (const doc of readSources(sources, counters)) out.push(doc);
  return out;
}

const jsonlLines = (name: string): Record<string, unknown>[] =>
  readFileSync(fixture(name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('JSONL sources', () => {
  it('reads the SlimPajama schema with the domain from meta.redpajama_set_name', async () => {
    const docs = await collect([
      { type: 'jsonl', path: fixture('slimpajama-sample.jsonl'), schema: 'slimpajama' },
    ]);
    const expected = jsonlLines('slimpajama-sample.jsonl');
    expect(docs.map((d) => d.text)).toEqual(expected.map((r) => r.text));
    expect(docs.map((d) => d.domain)).toEqual(
      expected.map((r) => (r.meta as Record<string, string>).redpajama_set_name),
    );
    expect(new Set(docs.map((d) => d.domain))).toEqual(
      new Set(['RedPajamaArXiv', 'RedPajamaStackExchange', 'RedPajamaC4']),
    );
    expect(docs[2].line).toBe(3);
  });

  it('decompresses gzip (GNU gzip) and zstd (zstd CLI) streams to the same documents', async () => {
    const plain = await collect([
      { type: 'jsonl', path: fixture('slimpajama-sample.jsonl'), schema: 'slimpajama' },
    ]);
    for (const file of ['slimpajama-sample.jsonl.gz', 'slimpajama-sample.jsonl.zst']) {
      const docs = await collect([{ type: 'jsonl', path: fixture(file), schema: 'slimpajama' }]);
      expect(docs.map(({ text, domain, line }) => ({ text, domain, line }))).toEqual(
        plain.map(({ text, domain, line }) => ({ text, domain, line })),
      );
    }
  });

  it('reads the Dolma schema (domain from `source`) and a per-file domain', async () => {
    const dolma = await collect([
      { type: 'jsonl', path: fixture('dolma-sample.jsonl'), schema: 'dolma' },
    ]);
    expect(dolma).toHaveLength(6);
    expect(dolma.every((d) => d.domain === 'common-crawl')).toBe(true);
    const fixed = await collect([
      { type: 'jsonl', path: fixture('dolma-sample.jsonl'), domain: 'web' },
    ]);
    expect(fixed.every((d) => d.domain === 'web')).toBe(true);
    const stem = await collect([{ type: 'jsonl', path: fixture('dolma-sample.jsonl') }]);
    expect(stem[0].domain).toBe('dolma-sample');
    const custom = await collect([
      {
        type: 'jsonl',
        path: fixture('dolma-sample.jsonl'),
        textField: 'id',
        domainField: 'metadata.language',
      },
    ]);
    expect(custom[0].domain).toBe('en');
    expect(custom[0].text).toBe(jsonlLines('dolma-sample.jsonl')[0].id);
  });

  it('names the file of a damaged compressed stream', async () => {
    for (const name of ['damaged.jsonl.gz', 'damaged.jsonl.zst']) {
      const path = join(tmp.dir, name);
      const good = readFileSync(fixture(name.replace('damaged', 'slimpajama-sample')));
      writeFileSync(path, good.subarray(0, good.length >> 1));
      const error = await collect([{ type: 'jsonl', path, schema: 'slimpajama' }]).catch((e) => e);
      expect(DataError.isInstance(error)).toBe(true);
      expect(error.message).toContain(`${path}: cannot read after line`);
      expect(error.message).toContain('HINT: check that the file is complete');
    }
  });

  it('names the file and line of a malformed line, or skips and counts it', async () => {
    const path = fixture('malformed.jsonl');
    const error = await collect([{ type: 'jsonl', path, schema: 'slimpajama' }]).catch((e) => e);
    expect(error).toBeInstanceOf(MalformedJsonLineError);
    expect(error.message).toContain(`${path}:2: malformed JSON line`);
    expect(error.message).toContain("onMalformedLine: 'skip'");
    expect(DataError.isInstance(error)).toBe(true);
    const counters = { skippedLines: 0 };
    const docs = await collect(
      [{ type: 'jsonl', path, schema: 'slimpajama', onMalformedLine: 'skip' }],
      counters,
    );
    expect(docs.map((d) => d.text)).toEqual(['first good line', 'third line']);
    expect(counters.skippedLines).toBe(1);
  });

  it('names the missing field path and lists the fields that exist', async () => {
    const error = await collect([
      { type: 'jsonl', path: fixture('dolma-sample.jsonl'), schema: 'slimpajama' },
    ]).catch((e) => e);
    expect(error).toBeInstanceOf(MissingFieldError);
    expect(error.message).toContain(
      'dolma-sample.jsonl:1: field "meta.redpajama_set_name" not found',
    );
    expect(error.message).toMatch(
      /the record has the fields: added, created, id, metadata, metadata\.bucket, .*, source, text\n/,
    );
    const path = join(tmp.dir, 'notext.jsonl');
    writeFileSync(path, '{"content":"x","meta":{"redpajama_set_name":"a"}}\n');
    const e2 = await collect([{ type: 'jsonl', path, schema: 'slimpajama' }]).catch((e) => e);
    expect(e2.message).toContain(
      ':1: field "text" not found; the record has the fields: content, meta, meta.redpajama_set_name',
    );
  });
});

describe('text and Parquet sources', () => {
  it('reads a text file whole or by paragraph', async () => {
    const path = fixture('tinyshakespeare-excerpt.txt');
    const whole = await collect([{ type: 'text', path }]);
    expect(whole).toHaveLength(1);
    expect(whole[0].text).toBe(readFileSync(path, 'utf8'));
    expect(whole[0].domain).toBe('tinyshakespeare-excerpt');
    const paragraphs = await collect([{ type: 'text', path, split: 'paragraph', domain: 'plays' }]);
    expect(paragraphs.length).toBeGreaterThan(20);
    expect(paragraphs[0].text).toBe(
      'First Citizen:\nBefore we proceed any further, hear me speak.',
    );
    expect(paragraphs[1].line).toBe(4);
    expect(paragraphs.map((p) => p.text).join('\n\n')).toBe(whole[0].text);
  });

  it('reads a zstd Parquet file written by DuckDB: the same texts as the JSONL it came from', async () => {
    const docs = await collect([
      { type: 'parquet', path: fixture('fineweb-style.zstd.parquet'), domainColumn: 'domain' },
    ]);
    const expected = jsonlLines('dolma-sample.jsonl');
    expect(docs.map((d) => d.text)).toEqual(expected.map((r) => r.text));
    expect(docs.every((d) => d.domain === 'common-crawl')).toBe(true);
    const error = await collect([
      { type: 'parquet', path: fixture('fineweb-style.zstd.parquet'), textColumn: 'content' },
    ]).catch((e) => e);
    expect(error.message).toContain(
      'field "content" is not a column; the record has the fields: id, text, domain',
    );
  });

  it('reads every row group of a Parquet file in order (DuckDB, 3 row groups)', async () => {
    const docs = await collect([
      { type: 'parquet', path: fixture('row-groups.zstd.parquet'), domainColumn: 'domain' },
    ]);
    expect(docs).toHaveLength(5000);
    docs.forEach((d, i) => {
      expect(d.text).toBe(`document ${i} of the row-group fixture`);
      expect(d.domain).toBe(i % 3 === 0 ? 'three' : 'other');
      expect(d.line).toBe(i + 1);
    });
  });

  it('reads folders in sorted order and rejects a missing path', async () => {
    const docs = await collect([
      { type: 'jsonl', path: fixture(''), schema: 'text', domain: 'all', onMalformedLine: 'skip' },
    ]);
    const files = [...new Set(docs.map((d) => d.file.split('/').pop()))];
    expect(files).toEqual([
      'dolma-sample.jsonl',
      'malformed.jsonl',
      'slimpajama-sample.jsonl',
      'slimpajama-sample.jsonl.gz',
      'slimpajama-sample.jsonl.zst',
    ]);
    await expect(collect([{ type: 'text', path: '/no/such/file.txt' }])).rejects.toThrow(
      /an existing file or folder/,
    );
  });
});

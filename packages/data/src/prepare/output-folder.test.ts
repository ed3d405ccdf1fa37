import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataset } from '../dataset.js';
import { DataError } from '../errors.js';
import { fixture, tempDir } from '../fixtures.test-helpers.js';
import { prepare } from './prepare.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

const text = {
  type: 'text' as const,
  path: fixture('tinyshakespeare-excerpt.txt'),
  split: 'paragraph' as const,
};

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort())
    out[name] = readFileSync(join(dir, name)).toString('base64');
  return out;
}

async function failure(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(DataError.isInstance(error), String(error)).toBe(true);
  return error as DataError;
}

describe('prepare into a folder that holds a dataset', () => {
  it('of another tokenizer: refused, nothing changed; with overwrite: replaced, old shards gone', async () => {
    const dir = join(tmp.dir, 'tokenizers');
    await prepare({
      sources: [text],
      outDir: dir,
      tokenizer: 'byte',
      workers: 0,
      shardTextBytes: 2000,
    });
    const before = snapshot(dir);
    const error = await failure(
      prepare({ sources: [text], outDir: dir, tokenizer: 'gpt2', workers: 0 }),
    );
    expect(error.code).toBe('TOKENIZER_MISMATCH');
    expect(error.message).toContain(`${dir} holds a dataset tokenized with byte (vocabulary 257)`);
    expect(error.message).toContain('not with gpt2 (vocabulary 50257)');
    expect(snapshot(dir)).toEqual(before);

    const r = await prepare({
      sources: [text],
      outDir: dir,
      tokenizer: 'gpt2',
      workers: 0,
      overwrite: true,
    });
    expect(r.index.tokenizer.name).toBe('gpt2');
    const shards = readdirSync(dir).filter((f) => f.endsWith('.bin'));
    expect(shards.sort()).toEqual(r.index.shards.map((s) => s.file).sort()); // the byte shards are gone
    expect(Object.keys(before).filter((f) => f.endsWith('.bin')).length).toBeGreaterThan(
      shards.length,
    );
    await (await openDataset(dir)).verify();
  }, 30_000);

  it('of the same tokenizer: prepared again as before (finished shards kept)', async () => {
    const dir = join(tmp.dir, 'same');
    await prepare({ sources: [text], outDir: dir, tokenizer: 'byte', workers: 0 });
    const again = await prepare({ sources: [text], outDir: dir, tokenizer: 'byte', workers: 0 });
    expect(again.shardsWritten).toBe(0);
    expect(again.shardsSkipped).toBeGreaterThan(0);
  });
});

describe('empty sources', () => {
  it('an empty folder, an empty JSONL file and documents without text are errors, with no index', async () => {
    const folder = join(tmp.dir, 'empty-folder');
    mkdirSync(folder);
    const emptyFile = join(tmp.dir, 'empty.jsonl');
    writeFileSync(emptyFile, '');
    const blank = join(tmp.dir, 'blank.jsonl');
    writeFileSync(blank, '{"text":""}\n{"text":""}\n');
    for (const [source, found] of [
      [{ type: 'text' as const, path: folder }, 'no documents'],
      [{ type: 'jsonl' as const, path: emptyFile }, 'no documents'],
      [{ type: 'jsonl' as const, path: blank }, '2 documents, all with empty text'],
    ] as const) {
      const out = join(tmp.dir, `out-${found.length}-${source.type}`);
      const error = await failure(
        prepare({ sources: [source], outDir: out, tokenizer: 'byte', workers: 0 }),
      );
      expect(error.code).toBe('EMPTY_SOURCE');
      expect(error.message).toBe(
        `the sources hold ${found}: ${source.type}:${source.path}\nHINT: ${error.hint}`,
      );
      expect(readdirSync(out)).not.toContain('index.lrw');
    }
  });

  it('empty documents and invalid UTF-8 are counted in the index', async () => {
    const path = join(tmp.dir, 'counted.jsonl');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('{"text":"one"}\n{"text":""}\n{"text":"t'),
        Buffer.from([0xff]),
        Buffer.from('o"}\n{"text":"three"}\n'),
      ]),
    );
    const r = await prepare({
      sources: [{ type: 'jsonl', path }],
      outDir: join(tmp.dir, 'counted'),
      tokenizer: 'byte',
      workers: 0,
      validation: { documents: 0 },
    });
    expect(r.index.stats.emptyDocuments).toBe(1);
    expect(r.index.stats.invalidUtf8Documents).toBe(1);
    expect(r.index.stats.train.counted?.documents).toBe(3);
  });
});

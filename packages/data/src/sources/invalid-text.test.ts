import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { fixture, tempDir } from '../fixtures.test-helpers.js';
import { readLines } from './byte-streams.js';
import type { ReadCounters } from './jsonl-reader.js';
import { readSources } from './read-source.js';
import type { SourceSpec } from './source.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

async function read(sources: SourceSpec[]) {
  const counters: ReadCounters = { skippedLines: 0 };
  const texts: string[] = [];
  for await (const doc of readSources(sources, counters)) texts.push(doc.text);
  return { texts, counters };
}

// 0xff never occurs in UTF-8; 0xc3 starts a two-byte sequence that "(" does not continue.
const INVALID = Buffer.from([0x62, 0x61, 0xff, 0x64, 0x20, 0xc3, 0x28]); // "ba\xffd \xc3("

describe('invalid UTF-8 is counted (and decoded as U+FFFD, as before)', () => {
  it('JSONL: per line, and JSON escapes of unpaired surrogates', async () => {
    const path = join(tmp.dir, 'mixed.jsonl');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('{"text":"good é"}\n{"text":"'),
        INVALID,
        Buffer.from('"}\r\n{"text":"lone \\ud800 surrogate"}\n{"text":"fine"}'),
      ]),
    );
    const { texts, counters } = await read([{ type: 'jsonl', path }]);
    expect(texts).toEqual(['good é', 'ba\uFFFDd \uFFFD(', 'lone \ud800 surrogate', 'fine']);
    expect(counters.invalidUtf8Documents).toBe(2);
  });

  it('text files: a whole file, or the paragraphs that hold the replaced bytes', async () => {
    const path = join(tmp.dir, 'bad.txt');
    writeFileSync(path, Buffer.concat([Buffer.from('clean paragraph\n\n'), INVALID]));
    const whole = await read([{ type: 'text', path }]);
    expect(whole.counters.invalidUtf8Documents).toBe(1);
    const paragraphs = await read([{ type: 'text', path, split: 'paragraph' }]);
    expect(paragraphs.texts).toEqual(['clean paragraph', 'ba\uFFFDd \uFFFD(']);
    expect(paragraphs.counters.invalidUtf8Documents).toBe(1);
  });

  it('valid fixtures count nothing', async () => {
    const { counters } = await read([
      { type: 'jsonl', path: fixture('slimpajama-sample.jsonl.zst'), schema: 'slimpajama' },
      { type: 'text', path: fixture('tinyshakespeare-excerpt.txt'), split: 'paragraph' },
      { type: 'parquet', path: fixture('fineweb-style.zstd.parquet') },
    ]);
    expect(counters.invalidUtf8Documents ?? 0).toBe(0);
  });
});

describe('readLines', () => {
  it('splits bytes at \\n (dropping \\r) and keeps a character that straddles two reads', async () => {
    // the reads are 1 MiB: put a 3-byte character across the boundary
    const path = join(tmp.dir, 'long.txt');
    const head = 'a'.repeat(2 ** 20 - 1);
    writeFileSync(path, `${head}€tail\r\nsecond\n\nlast`);
    const lines: [string, number, boolean][] = [];
    for await (const l of readLines(path)) lines.push(l);
    expect(lines.map(([s]) => s)).toEqual([`${head}€tail`, 'second', '', 'last']);
    expect(lines.map(([, n]) => n)).toEqual([1, 2, 3, 4]);
    expect(lines.every(([, , valid]) => valid)).toBe(true);
  });
});

describe('a file that is not what its name says', () => {
  it('a text file named .parquet is an error naming the file', async () => {
    const path = join(tmp.dir, 'notes.parquet');
    writeFileSync(path, 'hello, I am plain text\n');
    const error = await read([{ type: 'parquet', path }]).catch((e: unknown) => e);
    expect(DataError.isInstance(error)).toBe(true);
    expect((error as DataError).code).toBe('UNSUPPORTED_INPUT');
    expect((error as Error).message).toContain(`${path}: not a Parquet file`);
  });
});

import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareByte, TINY_CORPUS } from './child-cli.js';
import { lrw } from './cli-harness.js';

// Every user error is a message (what, where, the flag to use), never a stack trace or a bare
// system error; and nothing the user did not ask for happens silently.
const corpus = TINY_CORPUS;
const root = mkdtempSync(join(tmpdir(), 'lrw-cli-messages-'));
const data = join(root, 'data');
const RUN = ['--seq-len', '16', '--batch-size', '2', '--eval-batches', '2', '--eval-interval', '0'];
beforeAll(async () => {
  const p = await prepareByte(data, corpus);
  expect(p.code, p.stderr).toBe(0);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const all: string[] = [];
/** Runs lrw and keeps what it printed for the check that no output has a stack or a library name. */
async function run(...argv: string[]) {
  const r = await lrw(...argv);
  all.push(r.stderr, r.stdout);
  return r;
}
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f)).toString('base64')]),
  );
}

describe('lrw prepare', () => {
  it('refuses to replace a dataset of another tokenizer unless --force', async () => {
    const dir = join(root, 'retokenize');
    cpSync(data, dir, { recursive: true });
    const before = snapshot(dir);
    const r = await run(
      'prepare',
      '--source',
      corpus,
      '--out',
      dir,
      '--tokenizer',
      'gpt2',
      '--workers',
      '0',
      '-q',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `lrw prepare: ${dir} holds a dataset tokenized with byte (vocabulary 257), not with gpt2 (vocabulary 50257)`,
    );
    expect(r.stderr).toContain(
      'HINT: choose another --out, or add --force to replace that dataset',
    );
    expect(snapshot(dir)).toEqual(before);
    const forced = await run(
      'prepare',
      '--source',
      corpus,
      '--out',
      dir,
      '--tokenizer',
      'gpt2',
      '--workers',
      '0',
      '-q',
      '--force',
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('validation tokens (gpt2)');
  }, 60_000);

  it('an empty source is an error; empty documents and invalid UTF-8 are counted and printed', async () => {
    const empty = join(root, 'empty-source');
    mkdirSync(empty);
    const r = await run('prepare', '--source', empty, '--out', join(root, 'from-empty'), '-q');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lrw prepare: the sources hold no documents: text:${empty}`);
    expect(r.stderr).toContain('HINT: check the --source paths');
    expect(existsSync(join(root, 'from-empty', 'index.lrw'))).toBe(false);
    const jsonl = join(root, 'mixed.jsonl');
    const lines = [
      '{"text":"first document"}',
      '{"text":""}',
      '{"text":"second"}',
      '{"text":"third one"}',
    ];
    writeFileSync(
      jsonl,
      Buffer.concat([
        Buffer.from(`${lines.join('\n')}\n{"text":"bad `),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n'),
      ]),
    );
    const counted = await prepareByte(join(root, 'counted'), jsonl);
    expect(counted.code, counted.stderr).toBe(0);
    expect(counted.stdout).toContain(
      'read: 1 empty document dropped, 1 document with invalid UTF-8 (the bytes replaced by U+FFFD)',
    );
  }, 60_000);

  it('hints name the flags, and the flags exist: --skip-malformed-lines, --text-field', async () => {
    const broken = join(root, 'broken.jsonl');
    writeFileSync(
      broken,
      '{"text":"fine"}\n{"text": oops}\n{"text":"also fine"}\n{"text":"more"}\n',
    );
    const r = await run('prepare', '--source', broken, '--out', join(root, 'broken'), '-q');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lrw prepare: ${broken}:2: malformed JSON line`);
    expect(r.stderr).toContain('HINT: fix or remove that line, or add --skip-malformed-lines');
    const skipped = await prepareByte(join(root, 'broken'), broken, '--skip-malformed-lines');
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain('read: 1 malformed line skipped');
    const body = join(root, 'body.jsonl');
    writeFileSync(
      body,
      ['a', 'b', 'c'].map((t) => JSON.stringify({ body: `document ${t}` })).join('\n'),
    );
    const missing = await run('prepare', '--source', body, '--out', join(root, 'body'), '-q');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('field "text" not found; the record has the fields: body');
    expect(missing.stderr).toContain('HINT: name the fields with --text-field and --domain-field');
    const named = await prepareByte(join(root, 'body'), body, '--text-field', 'body');
    expect(named.code, named.stderr).toBe(0);
  }, 60_000);

  it('a text file named .parquet and an --out that is a file are messages', async () => {
    const fake = join(root, 'notes.parquet');
    writeFileSync(fake, 'plain text, not parquet\n');
    const r = await run('prepare', '--source', fake, '--out', join(root, 'fake'), '-q');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lrw prepare: ${fake}: not a Parquet file (`);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    for (const command of [
      ['prepare', '--source', corpus],
      ['train', '--data', data, ...RUN],
    ]) {
      const out = await run(...command, '--out', file);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`--out ${file} is a file, not a folder.`);
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  }, 60_000);
});

describe('lrw train and eval on bad input', () => {
  it('resuming on data of another tokenizer, or other data, says so before loading anything', async () => {
    const out = join(root, 'trained');
    const t = await run('train', '--data', data, '--out', out, ...RUN, '--steps', '2');
    expect(t.code, t.stderr).toBe(0);
    const gpt2 = join(root, 'data-gpt2');
    expect(
      (await lrw('prepare', '--source', corpus, '--out', gpt2, '--workers', '0', '-q')).code,
    ).toBe(0);
    const other = join(root, 'data-other');
    expect((await prepareByte(other, corpus, '--validation-documents', '3')).code).toBe(0);
    const before = snapshot(join(out, 'checkpoints'));
    const r = await run('train', '--data', gpt2, '--out', out, '--resume', '--steps', '4');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `The checkpoint was trained on data tokenized with byte (vocabulary 257), from ${data}; this run's data is tokenized with gpt2 (vocabulary 50257), from ${gpt2}.`,
    );
    expect(r.stderr).toContain(`HINT: pass --data the dataset the run was trained on (${data})`);
    const o = await run('train', '--data', other, '--out', out, '--resume', '--steps', '4');
    expect(o.code).toBe(1);
    expect(o.stderr).toContain('the same tokenizer, but other shards');
    expect(snapshot(join(out, 'checkpoints'))).toEqual(before);
    // lrw eval on data of another tokenizer would score nonsense: refused
    const ev = await run('eval', out, '--data', gpt2);
    expect(ev.code).toBe(2);
    expect(ev.stderr).toContain(
      `lrw eval: ${out} was trained on data tokenized with byte (vocabulary 257); ${gpt2} is tokenized with gpt2 (vocabulary 50257).`,
    );
  }, 120_000);

  it('a missing --task-file and a corrupt index are messages that name the file', async () => {
    const e = await run(
      'eval',
      join(root, 'trained'),
      '--data',
      data,
      '--tasks',
      'sciq',
      '--task-file',
      `sciq:test=${join(root, 'nope.json')}`,
    );
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(
      `--task-file sciq:test=${join(root, 'nope.json')}: ${join(root, 'nope.json')} does not exist.`,
    );
    const bad = join(root, 'bad-index');
    cpSync(data, bad, { recursive: true });
    const index = readFileSync(join(bad, 'index.lrw'));
    index[index.length - 3] ^= 0xff;
    writeFileSync(join(bad, 'index.lrw'), index);
    const r = await run(
      'train',
      '--data',
      bad,
      '--out',
      join(root, 'bad-index-run'),
      ...RUN,
      '--steps',
      '2',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /index\.lrw: checksum mismatch .*: the dataset index is corrupted\nHINT: run the `lrw prepare` command/,
    );
    expect(r.stderr).not.toContain('shard is corrupted');
  }, 60_000);
});

describe('no silent surprises', () => {
  it('a config file of 20 steps without an lr block trains, with the warm-up the flags would give', async () => {
    const file = join(root, 'short.json');
    writeFileSync(
      file,
      JSON.stringify({ steps: 20, method: 'linupper', seqLen: 16, batchSize: 2, evalInterval: 0 }),
    );
    const viaFile = await run(
      'train',
      '--data',
      data,
      '--config',
      file,
      '--out',
      join(root, 'via-file'),
      '--eval-batches',
      '2',
      '--steps',
      '2',
    );
    expect(viaFile.code, viaFile.stderr).toBe(0);
    const viaFlags = await run(
      'train',
      '--data',
      data,
      '--method',
      'linupper',
      '--steps',
      '2',
      '--out',
      join(root, 'via-flags'),
      ...RUN,
    );
    expect(viaFlags.code, viaFlags.stderr).toBe(0);
    const config = (dir: string) =>
      JSON.parse(readFileSync(join(root, dir, 'config.json'), 'utf8'));
    expect(config('via-file').lr).toEqual(config('via-flags').lr);
    expect(config('via-file').temperature).toEqual(config('via-flags').temperature);
  }, 60_000);

  it('says what it changes: a context grown for --seq-len, --r ignored by uniform', async () => {
    const r = await run(
      'train',
      '--data',
      data,
      '--out',
      join(root, 'long'),
      '--seq-len',
      '2000',
      '--batch-size',
      '1',
      '--steps',
      '1',
    );
    expect(r.stderr).toContain(
      'lrw train: note: --seq-len 2000 is longer than the context of model nano (256 tokens): its context grows to 2000 (+223,232 parameters).',
    );
    // the tiny corpus has no validation sample of 2001 tokens: said before the first step
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HINT: lower --seq-len');
    expect(existsSync(join(root, 'long'))).toBe(false);
    const u = await run(
      'train',
      '--data',
      data,
      '--out',
      join(root, 'uniform-r'),
      ...RUN,
      '--steps',
      '1',
      '--r',
      '0.5',
    );
    expect(u.code, u.stderr).toBe(0);
    expect(u.stderr).toContain(
      'lrw train: note: --r 0.5 has no effect with method uniform (every sample weighs the same): ignored',
    );
  }, 60_000);
});

describe('every output of this file', () => {
  it('has no stack trace and names no library option', () => {
    const text = all.join('\n');
    expect(text.length).toBeGreaterThan(1000);
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toMatch(
      /onMalformedLine|textField|domainField|prepare\(\)|defaultTrainerConfig|modelOverrides|listCheckpoints|exhaustion policy/,
    );
  });
});

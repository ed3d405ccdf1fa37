import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import {
  consoleProgress,
  type DefaultDomain,
  defaultCorpus,
  type PrepareResult,
  prepare,
  type SourceSpec,
  type TokenizerSpec,
} from '@lrw/data';
import type { Command } from 'commander';
import { CliError, type CliIo } from '../io.js';
import { byteSize, choice, fraction, integer, list } from '../options.js';

export const DEFAULT_DOMAINS: DefaultDomain[] = [
  'books',
  'speeches',
  'dictionary',
  'code',
  'api-docs',
];

export interface PrepareCommandOptions {
  out: string;
  source?: string[];
  schema?: 'slimpajama' | 'redpajama' | 'dolma' | 'text';
  tokenizer: 'gpt2' | 'byte';
  maxBytesPerDomain?: number;
  maxDocumentsPerDomain?: number;
  validationFraction?: number;
  validationDocuments?: number;
  domains?: string[];
  workers?: number;
  seed: number;
  quiet?: boolean;
  force?: boolean;
  textField?: string;
  domainField?: string;
  skipMalformedLines?: boolean;
}

/**
 * `--source` values: `[type:]path` where type is jsonl, text or parquet; without a type it is
 * inferred from the extension (a folder: jsonl when it holds .jsonl files, text otherwise).
 */
export function parseSource(
  spec: string,
  schema: PrepareCommandOptions['schema'],
  fields: Pick<PrepareCommandOptions, 'textField' | 'domainField' | 'skipMalformedLines'> = {},
): SourceSpec {
  const typed = /^(jsonl|text|parquet):(.+)$/.exec(spec);
  const path = resolve(typed ? typed[2]! : spec);
  if (!existsSync(path)) {
    throw new CliError(
      `--source ${spec}: no such file or folder (${path}).`,
      'give a file or folder of .jsonl(.gz/.zst), .txt/.md or .parquet files, or leave --source out to use the embedded default corpus.',
    );
  }
  let type = typed?.[1] as 'jsonl' | 'text' | 'parquet' | undefined;
  if (type === undefined) {
    const name = basename(path).toLowerCase();
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path).map((f) => f.toLowerCase());
      if (files.some((f) => /\.jsonl(\.gz|\.zst)?$/.test(f))) type = 'jsonl';
      else if (files.some((f) => f.endsWith('.parquet'))) type = 'parquet';
      else type = 'text';
    } else if (/\.jsonl(\.gz|\.zst)?$|\.json$/.test(name)) type = 'jsonl';
    else if (name.endsWith('.parquet')) type = 'parquet';
    else type = 'text';
  }
  if (type === 'jsonl') {
    return {
      type,
      path,
      ...(schema ? { schema } : {}),
      ...(fields.textField !== undefined ? { textField: fields.textField } : {}),
      ...(fields.domainField !== undefined ? { domainField: fields.domainField } : {}),
      ...(fields.skipMalformedLines ? { onMalformedLine: 'skip' as const } : {}),
    };
  }
  if (type === 'parquet') {
    return {
      type,
      path,
      ...(fields.textField !== undefined ? { textColumn: fields.textField } : {}),
      ...(fields.domainField !== undefined ? { domainColumn: fields.domainField } : {}),
    };
  }
  return { type, path };
}

/** Runs prepare() for the CLI options; the default corpus when no source is given. */
export async function runPrepare(opts: PrepareCommandOptions, io: CliIo): Promise<PrepareResult> {
  let sources: SourceSpec[];
  if (opts.source === undefined || opts.source.length === 0) {
    const domains = (opts.domains ?? DEFAULT_DOMAINS) as DefaultDomain[];
    const corpus = defaultCorpus({
      domains,
      ...(opts.maxBytesPerDomain !== undefined
        ? { maxBytesPerDomain: opts.maxBytesPerDomain }
        : {}),
      ...(opts.maxDocumentsPerDomain !== undefined
        ? { maxDocumentsPerDomain: opts.maxDocumentsPerDomain }
        : {}),
    });
    if (!opts.quiet) {
      const sizes = Object.entries(corpus.sizes)
        .map(([d, s]) => `${d} ${(s.bytes / 1024).toFixed(0)} KiB`)
        .join(', ');
      io.stderr(
        `default corpus (${corpus.packages.map((p) => `${p.name}@${p.version}`).join(', ')}): ${sizes}\n`,
      );
    }
    sources = [corpus.source];
  } else {
    sources = opts.source.map((s) => parseSource(s, opts.schema, opts));
  }
  const validation =
    opts.validationDocuments !== undefined
      ? { documents: opts.validationDocuments }
      : { fraction: opts.validationFraction ?? 0.05 };
  const result = await prepare({
    sources,
    outDir: resolve(opts.out),
    tokenizer: opts.tokenizer as TokenizerSpec,
    validation,
    seed: opts.seed,
    ...(opts.source?.length && opts.maxBytesPerDomain !== undefined
      ? { maxBytesPerDomain: opts.maxBytesPerDomain }
      : {}),
    ...(opts.source?.length && opts.maxDocumentsPerDomain !== undefined
      ? { maxDocumentsPerDomain: opts.maxDocumentsPerDomain }
      : {}),
    ...(opts.source?.length && opts.domains ? { domains: opts.domains } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(opts.force ? { overwrite: true } : {}),
    ...(opts.quiet ? {} : { onProgress: consoleProgress((line) => io.stderr(`${line}\n`)) }),
  });
  return result;
}

/** "read: 2 empty documents dropped, ..." when anything was dropped or replaced; else undefined. */
export function droppedCounts(stats: PrepareResult['index']['stats']): string | undefined {
  const plural = (n: number, one: string) =>
    `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;
  const parts = [
    ...(stats.emptyDocuments > 0
      ? [`${plural(stats.emptyDocuments, 'empty document')} dropped`]
      : []),
    ...((stats.invalidUtf8Documents ?? 0) > 0
      ? [
          `${plural(stats.invalidUtf8Documents!, 'document')} with invalid UTF-8 (the bytes replaced by U+FFFD)`,
        ]
      : []),
    ...(stats.skippedLines > 0 ? [`${plural(stats.skippedLines, 'malformed line')} skipped`] : []),
  ];
  return parts.length > 0 ? `read: ${parts.join(', ')}` : undefined;
}

export function registerPrepare(program: Command, io: CliIo): void {
  program
    .command('prepare')
    .summary('tokenize sources into checksummed shards (default: the embedded corpus)')
    .description(
      'Reads text sources, splits each domain into train and validation documents, tokenizes them on worker threads and writes checksummed shards and an index. Without --source it uses the embedded five-domain default corpus (books, speeches, dictionary, code, api-docs from npm packages). Re-running skips finished shards.',
    )
    .option('-o, --out <dir>', 'output folder of the shards', 'data/default')
    .option(
      '-s, --source <[type:]path>',
      'a file or folder (jsonl, text or parquet; type inferred from the extension); repeatable',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option(
      '--schema <name>',
      'JSONL schema: where text and domain are (slimpajama, redpajama, dolma, text)',
      choice(['slimpajama', 'redpajama', 'dolma', 'text'] as const),
    )
    .option(
      '-t, --tokenizer <name>',
      'gpt2 (50257 ids) or byte (257 ids)',
      choice(['gpt2', 'byte'] as const),
      'gpt2',
    )
    .option(
      '--max-bytes-per-domain <size>',
      'text budget per domain, e.g. 256K, 2M (default corpus: 1M)',
      byteSize,
    )
    .option('--max-documents-per-domain <n>', 'document budget per domain', integer(1))
    .option(
      '--validation-fraction <f>',
      'share of each domain held out for validation',
      fraction,
      0.05,
    )
    .option(
      '--validation-documents <n>',
      'exact number of validation documents per domain (wins over the fraction)',
      integer(0),
    )
    .option(
      '--domains <list>',
      `domains to keep, comma-separated (default corpus: ${DEFAULT_DOMAINS.join(',')})`,
      list,
    )
    .option('--workers <n>', 'tokenizer worker threads (0: this thread)', integer(0))
    .option('--seed <n>', 'seed of the train/validation split', integer(0), 0)
    .option(
      '--text-field <path>',
      'JSONL: the field holding the text, a dotted path (default: the schema\'s, "text"); Parquet: the text column',
    )
    .option(
      '--domain-field <path>',
      "JSONL: the field holding the domain, a dotted path (default: the schema's, or the file name); Parquet: the domain column",
    )
    .option('--skip-malformed-lines', 'JSONL: skip (and count) lines that are not JSON objects')
    .option('--force', 'replace a dataset in --out that was prepared with another tokenizer')
    .option('-q, --quiet', 'no progress lines')
    .addHelpText(
      'after',
      '\nExamples:\n  lrw prepare --out data/default --max-bytes-per-domain 256K\n  lrw prepare --source SlimPajama-6B/train --schema slimpajama --out data/slimpajama\n',
    )
    .action(async (opts: PrepareCommandOptions) => {
      if (opts.domains && !opts.source?.length) {
        const unknown = opts.domains.filter((d) => !(DEFAULT_DOMAINS as string[]).includes(d));
        if (unknown.length > 0) {
          throw new CliError(
            `--domains: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a domain of the default corpus.`,
            `use some of ${DEFAULT_DOMAINS.join(', ')}, or give --source for your own data.`,
          );
        }
      }
      const out = resolve(opts.out);
      if (existsSync(out) && !statSync(out).isDirectory()) {
        throw new CliError(
          `--out ${out} is a file, not a folder.`,
          'choose a folder for the dataset (new or existing).',
        );
      }
      const r = await runPrepare(opts, io);
      const count = (split: 'train' | 'validation'): number =>
        Object.values(r.index.stats[split]).reduce((a, d) => a + d.tokens, 0);
      io.stdout(
        `prepared ${r.index.domains.join(', ')} in ${out}: ${count('train').toLocaleString('en-US')} train + ${count('validation').toLocaleString('en-US')} validation tokens (${r.index.tokenizer.name}), ${r.shardsWritten} shards written, ${r.shardsSkipped} kept, ${r.seconds.toFixed(1)} s\n`,
      );
      const dropped = droppedCounts(r.index.stats);
      if (dropped) io.stdout(`${dropped}\n`);
    });
}

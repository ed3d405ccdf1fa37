/**
 * Validation loss, perplexity and bits per byte, overall and per domain, over batches of
 * the shape `@lrw/data` streams: (B, T) `tokens`, next-token `targets`, a `mask` and one
 * domain id per row. Sums are kept in float64 in batch order, so results are deterministic.
 *
 * loss = sum(-log p) / tokens (nats), perplexity = exp(loss),
 * bits per byte = sum(-log p) / (ln 2 * bytes) over the bytes of the predicted tokens.
 */
import type { LanguageModel } from './language-model.js';

/** A batch as `@lrw/data`'s stream yields it (extra fields are ignored). */
export interface TokenBatch {
  /** (B, T) input ids. */
  tokens: Int32Array;
  /** (B, T) next-token ids. */
  targets: Int32Array;
  /** (B, T) 1 where the target counts; all count when absent. */
  mask?: Float32Array | Uint8Array;
  /** (B) domain id of each row; rows with a negative id are padding and skipped. */
  domainIds: Int32Array | readonly number[];
  batchSize: number;
  seqLen: number;
}

/** A model that scores the targets of a batch: log p(targets[b,t] | tokens[b, <=t]), natural log. */
export interface TokenScorer {
  /** (B, T) log-probabilities of the targets. */
  targetLogProbs(batch: TokenBatch): Promise<Float32Array | Float64Array>;
}

export interface DomainPerplexity {
  /** Predicted tokens counted. */
  tokens: number;
  /** Sum of -log p over them (nats). */
  nll: number;
  /** Mean -log p per token (nats). */
  loss: number;
  perplexity: number;
  /** UTF-8 bytes of the counted targets (when token byte lengths were given). */
  bytes?: number;
  bitsPerByte?: number;
}

export interface PerplexityReport {
  overall: DomainPerplexity;
  /** By domain name (or id as a string when no names were given). */
  domains: Record<string, DomainPerplexity>;
}

export interface PerplexityOptions {
  /** Domain names by id. */
  domains?: readonly string[];
  /** UTF-8 byte length of each token id (a table by id, or a function), for bits per byte. */
  tokenBytes?: ArrayLike<number> | ((id: number) => number);
}

/** Accumulates per-token log-probabilities; `report()` at any time. */
export class PerplexityMeter {
  private readonly sums = new Map<number, { tokens: number; nll: number; bytes: number }>();

  constructor(private readonly options: PerplexityOptions = {}) {}

  private bytesOf(id: number): number {
    const tb = this.options.tokenBytes!;
    const n = typeof tb === 'function' ? tb(id) : tb[id];
    if (typeof n !== 'number' || !(n >= 0)) {
      throw new RangeError(`tokenBytes has no byte length for token id ${id}`);
    }
    return n;
  }

  /** Adds one row: its domain, the log-probabilities of its targets, and optionally a mask. */
  addRow(
    domainId: number,
    logProbs: ArrayLike<number>,
    targets?: ArrayLike<number>,
    mask?: ArrayLike<number>,
  ): void {
    if (!Number.isInteger(domainId) || domainId < 0) {
      throw new RangeError(`domain id must be a non-negative integer, got ${domainId}`);
    }
    if (this.options.tokenBytes && !targets) {
      throw new TypeError('addRow: targets are needed to count bytes (tokenBytes was given)');
    }
    let s = this.sums.get(domainId);
    if (!s) {
      s = { tokens: 0, nll: 0, bytes: 0 };
      this.sums.set(domainId, s);
    }
    for (let t = 0; t < logProbs.length; t++) {
      if (mask && mask[t] === 0) continue;
      const lp = logProbs[t];
      if (!Number.isFinite(lp) || lp > 1e-6) {
        throw new RangeError(
          `log-probability ${lp} at position ${t} (domain ${domainId}) is not a finite value <= 0`,
        );
      }
      s.tokens++;
      s.nll -= lp;
      if (this.options.tokenBytes) s.bytes += this.bytesOf(targets![t]);
    }
  }

  /** Adds a (B, T) batch of target log-probabilities. */
  addBatch(batch: TokenBatch, logProbs: ArrayLike<number>): void {
    const { batchSize: B, seqLen: T } = batch;
    if (logProbs.length !== B * T) {
      throw new RangeError(`expected ${B}x${T}=${B * T} log-probabilities, got ${logProbs.length}`);
    }
    for (let b = 0; b < B; b++) {
      const d = batch.domainIds[b];
      if (d < 0) continue;
      const row = (a: ArrayLike<number> & { subarray?: unknown }) =>
        Array.prototype.slice.call(a, b * T, (b + 1) * T) as number[];
      this.addRow(d, row(logProbs), row(batch.targets), batch.mask ? row(batch.mask) : undefined);
    }
  }

  private summarize(tokens: number, nll: number, bytes: number): DomainPerplexity {
    const loss = tokens > 0 ? nll / tokens : Number.NaN;
    const out: DomainPerplexity = { tokens, nll, loss, perplexity: Math.exp(loss) };
    if (this.options.tokenBytes) {
      out.bytes = bytes;
      out.bitsPerByte = nll / (Math.LN2 * bytes);
    }
    return out;
  }

  report(): PerplexityReport {
    const ids = [...this.sums.keys()].sort((a, b) => a - b);
    let tokens = 0;
    let nll = 0;
    let bytes = 0;
    const domains: Record<string, DomainPerplexity> = {};
    for (const id of ids) {
      const s = this.sums.get(id)!;
      tokens += s.tokens;
      nll += s.nll;
      bytes += s.bytes;
      const name = this.options.domains?.[id] ?? String(id);
      domains[name] = this.summarize(s.tokens, s.nll, s.bytes);
    }
    return { overall: this.summarize(tokens, nll, bytes), domains };
  }
}

/** Scores every batch with `scorer` and reports loss, perplexity and bits per byte. */
export async function evaluatePerplexity(
  scorer: TokenScorer,
  batches: Iterable<TokenBatch> | AsyncIterable<TokenBatch>,
  options: PerplexityOptions & { maxBatches?: number } = {},
): Promise<PerplexityReport> {
  const meter = new PerplexityMeter(options);
  let n = 0;
  for await (const batch of batches) {
    if (options.maxBatches !== undefined && n >= options.maxBatches) break;
    meter.addBatch(batch, await scorer.targetLogProbs(batch));
    n++;
  }
  return meter.report();
}

/**
 * Packs token sequences into one (B, T) batch: row b predicts seq[1..] from seq[..-1],
 * padded with mask 0 to the longest sequence.
 */
export function batchFromSequences(
  sequences: readonly Int32Array[],
  domainIds: readonly number[],
): TokenBatch {
  if (sequences.length !== domainIds.length) {
    throw new RangeError(`${sequences.length} sequences but ${domainIds.length} domain ids`);
  }
  const B = sequences.length;
  const T = Math.max(1, ...sequences.map((s) => s.length - 1));
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const mask = new Float32Array(B * T);
  sequences.forEach((s, b) => {
    for (let t = 0; t + 1 < s.length; t++) {
      tokens[b * T + t] = s[t];
      targets[b * T + t] = s[t + 1];
      mask[b * T + t] = 1;
    }
  });
  return { tokens, targets, mask, domainIds: Int32Array.from(domainIds), batchSize: B, seqLen: T };
}

/** lm-eval's rolling-loglikelihood perplexities of whole texts (wikitext-style). */
export async function textPerplexity(
  model: LanguageModel,
  texts: readonly string[],
): Promise<{ word_perplexity: number; byte_perplexity: number; bits_per_byte: number }> {
  const lls = await model.loglikelihoodRolling([...texts]);
  let ll = 0;
  let words = 0;
  let bytes = 0;
  texts.forEach((t, i) => {
    ll += lls[i];
    words += t.split(/\s+/).length; // len(re.split(r"\s+", doc)), as lm-eval counts words
    bytes += Buffer.byteLength(t, 'utf8');
  });
  return {
    word_perplexity: Math.exp(-ll / words),
    byte_perplexity: Math.exp(-ll / bytes),
    bits_per_byte: -ll / bytes / Math.LN2,
  };
}

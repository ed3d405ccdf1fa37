/** Progress of prepare(), reported through `onProgress`. */
export interface PrepareProgress {
  phase: 'scan' | 'tokenize' | 'done';
  /** Documents tokenized (or found in finished shards) so far, and in all. */
  documents: number;
  totalDocuments: number;
  /** UTF-8 bytes of source text processed so far, and in all. */
  textBytes: number;
  totalTextBytes: number;
  tokens: number;
  elapsedSeconds: number;
  tokensPerSecond: number;
  megabytesPerSecond: number;
  /** Estimated seconds left (from the text bytes still to tokenize), NaN while unknown. */
  etaSeconds: number;
  shardsWritten: number;
  shardsSkipped: number;
}

/**
 * A progress printer for prepare({ onProgress: consoleProgress() }): one line per update on
 * stderr, e.g. "tokenize 1,234/5,000 docs  12.3/50.0 MB  2,345,678 tokens  310,000 tok/s  1.2 MB/s  ETA 31s".
 */
export function consoleProgress(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): (p: PrepareProgress) => void {
  return (p) => {
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const eta = Number.isFinite(p.etaSeconds) ? `ETA ${Math.ceil(p.etaSeconds)}s` : 'ETA ?';
    write(
      `${p.phase.padEnd(8)} ${p.documents.toLocaleString('en-US')}/${p.totalDocuments.toLocaleString('en-US')} docs  ` +
        `${mb(p.textBytes)}/${mb(p.totalTextBytes)} MB  ${p.tokens.toLocaleString('en-US')} tokens  ` +
        `${Math.round(p.tokensPerSecond).toLocaleString('en-US')} tok/s  ${p.megabytesPerSecond.toFixed(2)} MB/s  ` +
        `${p.phase === 'done' ? `${p.elapsedSeconds.toFixed(1)}s, ${p.shardsWritten} shards written, ${p.shardsSkipped} skipped` : eta}`,
    );
  };
}

/** The running counts of prepare() and their throttled report through `onProgress`. */
export class ProgressReporter {
  readonly counts = { documents: 0, textBytes: 0, tokens: 0, shardsWritten: 0, shardsSkipped: 0 };
  totalDocuments = 0;
  totalTextBytes = 0;
  private last = 0;
  /** Rates and the ETA count from the start of tokenization (`startTokenizing`). */
  private tokenizeStarted: number;

  constructor(
    private readonly onProgress: ((progress: PrepareProgress) => void) | undefined,
    private readonly intervalMs = 500,
    private readonly started = performance.now(),
  ) {
    this.tokenizeStarted = started;
  }

  startTokenizing(): void {
    this.tokenizeStarted = performance.now();
  }

  /** Reports, at most once per interval unless `force`. */
  report(phase: PrepareProgress['phase'], force = false): void {
    const now = performance.now();
    if (!this.onProgress || (!force && now - this.last < this.intervalMs)) return;
    this.last = now;
    const working = (now - this.tokenizeStarted) / 1000;
    const { counts } = this;
    const rate = counts.textBytes / Math.max(working, 1e-9);
    this.onProgress({
      phase,
      ...counts,
      totalDocuments: this.totalDocuments,
      totalTextBytes: this.totalTextBytes,
      elapsedSeconds: (now - this.started) / 1000,
      tokensPerSecond: counts.tokens / Math.max(working, 1e-9),
      megabytesPerSecond: rate / 1e6,
      etaSeconds:
        counts.textBytes > 0 ? (this.totalTextBytes - counts.textBytes) / rate : Number.NaN,
    });
  }
}

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

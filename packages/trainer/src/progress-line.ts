/**
 * The console progress line of a run: `step 120/2000 (6.0%) | loss 3.4521 | 12.3k tok/s |
 * elapsed 1m02s | ETA 16m20s`.
 *
 * On a terminal it rewrites one line in place (carriage return + clear line, at most
 * `ttyIntervalSeconds` apart); in a log file or CI it prints plain lines, one every
 * `logIntervalSeconds`, plus the first and the last step, so logs stay short and readable.
 * The ETA uses the pace since this ProgressLine started, so a resumed run's ETA is not skewed
 * by the steps done before the restart.
 */
export interface ProgressSnapshot {
  /** Optimizer steps completed. */
  step: number;
  loss?: number;
  tokensPerSecond?: number;
  /** Extra text appended to the line, e.g. "skipped (non-finite loss)". */
  note?: string;
}

export interface ProgressLineOptions {
  totalSteps: number;
  /** Where to print. Default process.stderr. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Override terminal detection. Default `stream.isTTY`. */
  isTTY?: boolean;
  /** Plain-line mode: seconds between lines. Default 10. */
  logIntervalSeconds?: number;
  /** Terminal mode: seconds between redraws. Default 0.1. */
  ttyIntervalSeconds?: number;
  /** Clock in seconds (tests pass a fake one). Default performance.now() / 1000. */
  now?: () => number;
  /** Label before the line, e.g. the method name. */
  label?: string;
}

/** 45s, 1m02s, 2h03m, 3d04h; "?" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor((s % 86400) / 3600))}h`;
}

/** 950, 12.3k, 4.56M. */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return '?';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

/** The text of one progress line (no newline). */
export function formatProgress(
  snapshot: ProgressSnapshot,
  totalSteps: number,
  elapsedSeconds: number,
  etaSeconds: number,
  label?: string,
): string {
  const width = String(totalSteps).length;
  const percent = totalSteps > 0 ? ((100 * snapshot.step) / totalSteps).toFixed(1) : '?';
  const parts = [
    `${label ? `${label} ` : ''}step ${String(snapshot.step).padStart(width)}/${totalSteps} (${percent}%)`,
  ];
  if (snapshot.loss !== undefined) {
    parts.push(
      `loss ${Number.isFinite(snapshot.loss) ? snapshot.loss.toFixed(4) : String(snapshot.loss)}`,
    );
  }
  if (snapshot.tokensPerSecond !== undefined)
    parts.push(`${formatRate(snapshot.tokensPerSecond)} tok/s`);
  parts.push(`elapsed ${formatDuration(elapsedSeconds)}`, `ETA ${formatDuration(etaSeconds)}`);
  if (snapshot.note) parts.push(snapshot.note);
  return parts.join(' | ');
}

export class ProgressLine {
  private readonly totalSteps: number;
  private readonly stream: { write(text: string): unknown };
  private readonly tty: boolean;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly label: string | undefined;
  private readonly started: number;
  private firstStep: number | undefined;
  private lastPrint = Number.NEGATIVE_INFINITY;
  private pending: string | undefined;
  private lastWidth = 0;

  constructor(options: ProgressLineOptions) {
    this.totalSteps = options.totalSteps;
    const stream = options.stream ?? process.stderr;
    this.stream = stream;
    this.tty = options.isTTY ?? stream.isTTY === true;
    this.interval = this.tty
      ? (options.ttyIntervalSeconds ?? 0.1)
      : (options.logIntervalSeconds ?? 10);
    this.now = options.now ?? (() => performance.now() / 1000);
    this.label = options.label;
    this.started = this.now();
  }

  /** Reports progress; prints when the interval has passed, at the first step and the last. */
  update(snapshot: ProgressSnapshot): void {
    const now = this.now();
    // the pace counts from the step before the first one seen, i.e. from construction
    this.firstStep ??= snapshot.step - 1;
    const elapsed = now - this.started;
    const done = snapshot.step - this.firstStep;
    const eta = done > 0 ? ((this.totalSteps - snapshot.step) * elapsed) / done : Number.NaN;
    const text = formatProgress(snapshot, this.totalSteps, elapsed, eta, this.label);
    const isLast = snapshot.step >= this.totalSteps;
    const isFirst = this.lastPrint === Number.NEGATIVE_INFINITY;
    if (isFirst || isLast || now - this.lastPrint >= this.interval) {
      this.print(text);
      this.lastPrint = now;
      this.pending = undefined;
    } else {
      this.pending = text;
    }
  }

  /** Prints a message on its own line without garbling the progress line. */
  log(message: string): void {
    if (this.tty && this.lastWidth > 0) this.stream.write('\r\x1b[2K');
    this.stream.write(`${message}\n`);
    if (this.tty && this.lastWidth > 0) this.lastWidth = 0;
  }

  /** Prints the last state if it was held back, and ends the line on a terminal. */
  finish(): void {
    if (this.pending !== undefined) this.print(this.pending);
    this.pending = undefined;
    if (this.tty && this.lastWidth > 0) this.stream.write('\n');
    this.lastWidth = 0;
  }

  private print(text: string): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.lastWidth = text.length;
    } else {
      this.stream.write(`${text}\n`);
    }
  }
}

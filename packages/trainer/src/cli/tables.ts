import type { ComparisonTable } from '../report-data.js';
import type { RunResults } from '../run-results.js';

/** Pads columns of a text table; the first column left-aligned, the others right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** One run's final numbers: a row per domain with validation loss and perplexity, then the mean. */
export function formatDomainResults(results: RunResults): string {
  const entries = Object.entries(results.domains);
  const rows = entries.map(([d, v]) => [d, v.loss.toFixed(4), v.perplexity.toFixed(2)]);
  if (entries.length > 0) {
    const n = entries.length;
    rows.push([
      'mean',
      (entries.reduce((a, [, v]) => a + v.loss, 0) / n).toFixed(4),
      (entries.reduce((a, [, v]) => a + v.perplexity, 0) / n).toFixed(2),
    ]);
  }
  return `${results.label ?? results.method}: ${results.steps ?? '?'} steps, ${(results.tokens ?? 0).toLocaleString('en-US')} tokens\n${textTable(['domain', 'val loss', 'perplexity'], rows)}\n`;
}

/**
 * A comparison table (report-data's `comparisonTable`) as text, shaped like the paper's Table 1
 * (or Table 2 with `percent`): a row per domain (task) and the mean, a column per method with
 * mean ± std over seeds, and each method's difference from the baseline in brackets.
 */
export function formatComparison(
  table: ComparisonTable,
  options: { digits?: number; percent?: boolean; title?: string } = {},
): string {
  const digits = options.digits ?? 2;
  const scale = options.percent ? 100 : 1;
  const seeds = Math.max(
    0,
    ...table.rows.flatMap((r) => Object.values(table.cells[r] ?? {}).map((c) => c.n)),
  );
  const rows = table.rows.map((row) => [
    row,
    ...table.labels.map((label) => {
      const c = table.cells[row]?.[label];
      if (c === undefined) return '–';
      let text = (c.mean * scale).toFixed(digits);
      if (c.n > 1) text += ` ± ${(c.std * scale).toFixed(digits)}`;
      if (c.delta !== undefined)
        text += ` (${c.delta >= 0 ? '+' : ''}${(c.delta * scale).toFixed(digits)})`;
      return text;
    }),
  ]);
  const notes = [
    seeds > 1 ? `mean ± std over ${seeds} seeds` : undefined,
    table.baseline ? `(difference from ${table.baseline})` : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  const title = options.title ? `${options.title}${notes ? ` — ${notes}` : ''}\n` : '';
  return `${title}${textTable([options.percent ? 'task' : 'domain', ...table.labels], rows)}\n`;
}

function signedText(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return v > 0 && Number(s) !== 0 ? `+${s}` : s;
}

/**
 * The paired differences of a comparison table as text: a row per domain (task) and the mean, a
 * column per method other than the baseline, each cell `mean difference [low, high]` over the
 * seeds, `*` when the interval excludes 0. With one seed no interval exists, and the cell says
 * so instead of inventing one.
 */
export function formatPairedDifferences(
  table: ComparisonTable,
  options: { digits?: number; percent?: boolean; title?: string } = {},
): string {
  const digits = options.digits ?? 2;
  const scale = options.percent ? 100 : 1;
  const labels = table.labels.filter((l) => l !== table.baseline);
  if (table.baseline === undefined || labels.length === 0) return '';
  const rows = table.rows.map((row) => [
    row,
    ...labels.map((label) => {
      const p = table.cells[row]?.[label]?.paired;
      if (p === undefined) return '–';
      const mean = signedText(p.mean * scale, digits);
      if (p.interval === undefined) return `${mean} (1 seed: no interval)`;
      const lo = signedText(p.interval.low * scale, digits);
      const hi = signedText(p.interval.high * scale, digits);
      return `${mean} [${lo}, ${hi}]${p.excludesZero ? ' *' : ''}`;
    }),
  ]);
  const seeds = Math.max(
    0,
    ...table.rows.flatMap((r) => labels.map((l) => table.cells[r]?.[l]?.paired?.n ?? 0)),
  );
  const pct = Math.round((table.confidence ?? 0.95) * 100);
  const note =
    seeds > 1
      ? `difference from ${table.baseline} with the same seed, mean [${pct}% Student-t interval] over ${seeds} seeds; * the interval excludes 0`
      : `difference from ${table.baseline} with the same seed; one seed gives no interval (run more seeds)`;
  const title = `${options.title ? `${options.title} — ` : ''}${note}\n`;
  return `${title}${textTable([options.percent ? 'task' : 'domain', ...labels.map((l) => `${l} − ${table.baseline}`)], rows)}\n`;
}

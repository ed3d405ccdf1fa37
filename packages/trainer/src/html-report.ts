import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeBytesAtomic } from './atomic-write.js';
import { escapeHtml } from './html-escape.js';
import type { TrainStepRecord } from './metrics-record.js';
import {
  bucketMeans,
  type ComparisonTable,
  comparisonTable,
  loadReportRun,
  type ReportRun,
  summarizeRun,
  type TableCell,
} from './report-data.js';
import { REPORT_STYLE as STYLE } from './report-style.js';
import { type ChartSeries, type LineChartOptions, lineChart } from './svg-chart.js';
import { TrainerError } from './trainer-error.js';

/**
 * The run report: one self-contained HTML file (no network, no script; charts are inline SVG)
 * comparing one or more runs. Shows the per-domain perplexity table shaped like the paper's
 * Table 1 (and few-shot accuracy like its Table 2 when present), training and validation loss,
 * per-domain validation loss over time, the weight statistics over time with n * max w against
 * the 2/n cap (like the paper's Figure 6), rho_hat, the temperature, learning rate, gradient
 * norm, throughput and each run's config.
 */
export interface ReportOptions {
  title?: string;
  /** Label of the baseline column the differences are taken against. Default "uniform". */
  baseline?: string;
  /** Time stamp printed in the header. Default now. */
  generatedAt?: Date;
  /**
   * Domain-weight trajectories to plot besides those of the runs trained with online domain
   * reweighting (e.g. the DoReMi / DoGE proxies whose mean weights the runs used).
   */
  domainWeightTrajectories?: readonly DomainWeightTrajectory[];
}

/** One chart of the "Domain weights" section: the mixture after each step. */
export interface DomainWeightTrajectory {
  title: string;
  trajectory: readonly { step: number; weights: Record<string, number> }[];
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#bcbd22',
];

function colorsByLabel(runs: readonly ReportRun[], baseline: string): Map<string, string> {
  const colors = new Map<string, string>();
  let next = 0;
  for (const run of runs) {
    if (colors.has(run.label)) continue;
    colors.set(run.label, run.label === baseline ? '#404040' : PALETTE[next++ % PALETTE.length]!);
  }
  return colors;
}

function fmt(v: number | undefined | null, digits = 2): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  return v.toFixed(digits);
}

function signed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return v > 0 && s !== (0).toFixed(digits) ? `+${s}` : s.replace('-', '−');
}

/** The caption's explanation of the Δ columns. */
function deltaNote(baseline: string, table: ComparisonTable): string {
  const pct = Math.round((table.confidence ?? 0.95) * 100);
  const b = escapeHtml(baseline);
  const pairs = Math.max(
    0,
    ...table.rows.flatMap((r) => Object.values(table.cells[r] ?? {}).map((c) => c.paired?.n ?? 0)),
  );
  if (pairs > 1) {
    return `Δ: difference from ${b} with the same seed (same initialisation and data order), mean over seeds and its ${pct}% Student-t interval; coloured and marked * when the interval excludes 0.`;
  }
  return `Δ: difference from ${b}${pairs === 1 ? ' with the same seed' : ''}; with one seed no interval exists, so no difference is marked (run more seeds).`;
}

/**
 * The Δ cell of a method: its paired difference from the baseline (same seed) with the
 * Student-t interval, coloured and marked * only when the interval excludes 0; one seed has no
 * interval and stays uncoloured. Without seeds to pair, the difference of the means.
 */
function deltaCell(c: TableCell | undefined, lowerIsBetter: boolean, digits: number): string {
  const p = c?.paired;
  const d = p?.mean ?? c?.delta;
  if (d === undefined) return '<td class="num delta">–</td>';
  if (p?.interval === undefined) {
    const why = p ? 'one seed: no interval' : 'no seeds to pair: difference of the means';
    return `<td class="num delta" title="${why}">${signed(d, digits)}</td>`;
  }
  const { low, high } = p.interval;
  const better = p.excludesZero === true && (lowerIsBetter ? d < 0 : d > 0);
  const worse = p.excludesZero === true && !better;
  const title = `${p.n} seeds; ${Math.round(p.interval.confidence * 100)}% interval ${signed(low, digits + 1)} to ${signed(high, digits + 1)}`;
  return `<td class="num delta${better ? ' better' : worse ? ' worse' : ''}" title="${title}">${signed(d, digits)}${p.excludesZero ? '*' : ''} <span class="ci">[${signed(low, digits)}, ${signed(high, digits)}]</span></td>`;
}

function renderTable(
  table: ComparisonTable,
  caption: string,
  lowerIsBetter: boolean,
  digits: number,
): string {
  if (table.labels.length === 0) return '';
  const deltaLabels = table.labels.filter(
    (l) => l !== table.baseline && table.baseline !== undefined,
  );
  const head = table.labels
    .map(
      (l) =>
        `<th>${escapeHtml(l)}</th>${deltaLabels.includes(l) ? `<th class="delta">Δ ${escapeHtml(l)}</th>` : ''}`,
    )
    .join('');
  const body = table.rows
    .map((row) => {
      const cells = table.cells[row]!;
      const means = table.labels
        .map((l) => cells[l]?.mean)
        .filter((v): v is number => v !== undefined);
      const best = lowerIsBetter ? Math.min(...means) : Math.max(...means);
      const tds = table.labels
        .map((l) => {
          const c = cells[l];
          const value =
            c === undefined
              ? '–'
              : `${fmt(c.mean, digits)}${c.n > 1 ? ` <span class="std">± ${fmt(c.std, digits)}</span>` : ''}`;
          const isBest = c !== undefined && means.length > 1 && c.mean === best;
          let td = `<td class="num${isBest ? ' best' : ''}" data-label="${escapeHtml(l)}">${value}</td>`;
          if (deltaLabels.includes(l)) td += deltaCell(c, lowerIsBetter, digits);
          return td;
        })
        .join('');
      return `<tr${row === 'mean' ? ' class="mean"' : ''}><th scope="row">${escapeHtml(row)}</th>${tds}</tr>`;
    })
    .join('');
  return `<table class="compare"><caption>${caption}</caption><thead><tr><th>domain</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function runSeries(
  runs: readonly ReportRun[],
  colors: Map<string, string>,
  pick: (run: ReportRun) => [number, number | null | undefined][],
  smooth: boolean,
): { series: ChartSeries[]; stepsPerPoint: number } {
  // one legend entry per label: several seeds of a setting share its colour
  const seen = new Set<string>();
  let stepsPerPoint = 1;
  const series = runs.map((run) => {
    const raw = pick(run);
    // ~150 points per curve: per-step statistics are noisy, and a 560-px chart shows no more
    const thinned = smooth
      ? bucketMeans(raw, 150)
      : {
          points: raw.map(([x, y]) => [x, y ?? null] as [number, number | null]),
          stepsPerPoint: 1,
        };
    stepsPerPoint = Math.max(stepsPerPoint, thinned.stepsPerPoint);
    const s: ChartSeries = {
      name: run.label,
      color: colors.get(run.label)!,
      points: thinned.points,
      hideInLegend: seen.has(run.label),
    };
    seen.add(run.label);
    return s;
  });
  return { series, stepsPerPoint };
}

function trainChart(
  runs: readonly ReportRun[],
  colors: Map<string, string>,
  value: (r: TrainStepRecord) => number | null | undefined,
  options: LineChartOptions,
  smooth = true,
): string {
  const { series, stepsPerPoint } = runSeries(
    runs,
    colors,
    (run) => run.train.map((r) => [r.step, value(r)]),
    smooth,
  );
  const note = stepsPerPoint > 1 ? ` (mean of ${stepsPerPoint} steps per point)` : '';
  const lastStep = Math.max(...runs.map((r) => r.train.at(-1)?.step ?? 0));
  return lineChart(series, {
    xLabel: 'step',
    xDomain: [0, lastStep],
    ...options,
    title: options.title + note,
  });
}

/** What every section of the report draws from. */
interface ReportContext {
  runs: readonly ReportRun[];
  baseline: string;
  colors: Map<string, string>;
  /** The last step any run reached (the x range of every chart over steps). */
  lastStep: number;
  trajectories: readonly DomainWeightTrajectory[];
}

/** The report HTML for already loaded runs (a pure function of its inputs). */
export function renderReport(runs: readonly ReportRun[], options: ReportOptions = {}): string {
  if (runs.length === 0) {
    throw new TrainerError(
      'report-input',
      'renderReport: no runs given.',
      'pass at least one run directory.',
    );
  }
  const baseline = options.baseline ?? 'uniform';
  const lastStep = Math.max(
    0,
    ...runs.flatMap((r) => [r.train.at(-1)?.step ?? 0, r.eval.at(-1)?.step ?? 0]),
  );
  const context = {
    runs,
    baseline,
    colors: colorsByLabel(runs, baseline),
    lastStep,
    trajectories: options.domainWeightTrajectories ?? [],
  };
  return [
    ...headerSection(runs, options),
    ...runsSection(context),
    ...tablesSection(context),
    ...lossSection(context),
    ...domainLossSection(context),
    ...weightsSection(context),
    ...domainWeightsSection(context),
    ...optimizationSection(context),
    ...configSection(runs),
  ].join('\n');
}

function headerSection(runs: readonly ReportRun[], options: ReportOptions): string[] {
  const title = options.title ?? 'lrw training report';
  const generated = (options.generatedAt ?? new Date())
    .toISOString()
    .replace('T', ' ')
    .slice(0, 19);
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${runs.length} run${runs.length > 1 ? 's' : ''} · generated ${escapeHtml(generated)} UTC by @lrw/trainer</p>`,
    '<nav><a href="#runs">runs</a><a href="#perplexity">perplexity table</a><a href="#loss">loss</a>' +
      '<a href="#domain-loss">per-domain loss</a><a href="#weights">sample weights</a>' +
      '<a href="#optimization">optimization</a><a href="#config">config</a></nav>',
  ];
}

/** One row per run: its summary statistics. */
function runsSection({ runs, colors }: ReportContext): string[] {
  const summaryRows = runs
    .map((run) => {
      const s = summarizeRun(run);
      const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
      return `<tr><th scope="row"><span class="swatch" style="border-color:${colors.get(run.label)}"></span> ${escapeHtml(run.label)}</th><td>${escapeHtml(run.name)}</td><td class="num">${run.seed ?? '–'}</td><td class="num">${s.steps}</td><td class="num">${s.tokens === undefined ? '–' : s.tokens.toLocaleString('en-US')}</td><td class="num">${fmt(s.finalTrainLoss, 4)}</td><td class="num">${fmt(s.finalValLoss, 4)}</td><td class="num">${s.medianTokensPerSecond === undefined ? '–' : Math.round(s.medianTokensPerSecond).toLocaleString('en-US')}</td><td class="num">${s.skippedSteps}</td><td class="num">${pct(s.capHeldFraction)}</td><td class="num">${pct(s.meanEssFraction)}</td><td class="num">${fmt(s.meanRhoHat, 4)}</td></tr>`;
    })
    .join('');
  return [
    '<section id="runs"><h2>Runs</h2>',
    '<table class="runs"><thead><tr><th>label</th><th>directory</th><th>seed</th><th>steps</th><th>tokens</th><th>train loss (last 10%)</th><th>val loss</th><th>tokens/s (median)</th><th>skipped</th><th>cap held</th><th>ESS / n</th><th>mean ρ̂</th></tr></thead>',
    `<tbody>${summaryRows}</tbody></table>`,
    '<p class="note">cap held: share of steps with max<sub>i</sub> w<sub>i</sub> ≤ 2/n (Theorem 1); ESS / n: mean effective sample size 1/Σw² over the batch size; ρ̂ = Σ w<sub>i</sub> l<sub>i</sub> − mean(l).</p>',
  ];
}

/** The paper's Table 1 shape (perplexity per domain) and, when present, its Table 2 (tasks). */
function tablesSection({ runs, baseline }: ReportContext): string[] {
  const html: string[] = [];
  const ppl = comparisonTable(
    runs,
    (r) => Object.fromEntries(Object.entries(r.domains).map(([d, v]) => [d, v.perplexity])),
    baseline,
  );
  html.push('</section><section id="perplexity"><h2>Per-domain validation perplexity</h2>');
  if (ppl.labels.length === 0)
    html.push('<p class="nodata">No run has validation results yet.</p>');
  else {
    const seeds = Math.max(...ppl.labels.map((l) => ppl.cells.mean![l]?.n ?? 1));
    html.push(
      renderTable(
        ppl,
        `Perplexity per domain (lower is better; bold: best in the row${seeds > 1 ? '; mean ± std over seeds' : ''}; mean: average over domains). ${deltaNote(baseline, ppl)}`,
        true,
        2,
      ),
    );
  }
  const tasks = comparisonTable(runs, (r) => r.tasks, baseline);
  if (tasks.labels.length > 0) {
    html.push(
      '</section><section id="few-shot"><h2>Few-shot accuracy</h2>',
      renderTable(
        tasks,
        `Accuracy per task (higher is better). ${deltaNote(baseline, tasks)}`,
        false,
        3,
      ),
    );
  }
  return html;
}

/** Series of one validation statistic, one per run. */
function evalSeries(
  { runs, colors }: ReportContext,
  pick: (e: ReportRun['eval'][number]) => number | undefined,
): ChartSeries[] {
  return runSeries(runs, colors, (run) => run.eval.map((e) => [e.step, pick(e)]), false).series;
}

function lossSection(context: ReportContext): string[] {
  const { runs, colors, lastStep } = context;
  return [
    '</section><section id="loss"><h2>Loss</h2><div class="charts">',
    trainChart(runs, colors, (r) => r.meanLoss, {
      title: 'Training loss, plain batch mean',
      yLabel: 'nats / token',
      // the first 10% of steps fall steeply; fit the axis to the rest, where methods differ
      yRangeFromX: 0.1 * lastStep,
    }),
    lineChart(
      evalSeries(context, (e) => e.loss),
      {
        title: 'Validation loss, mean over domains',
        xLabel: 'step',
        yLabel: 'nats / token',
        xDomain: [0, lastStep],
        yRangeFromX: 0.1 * lastStep,
      },
    ),
    '</div>',
  ];
}

/** One small chart per domain: its validation loss over time. */
function domainLossSection(context: ReportContext): string[] {
  const { runs, lastStep } = context;
  const domains = [
    ...new Set(runs.flatMap((r) => r.eval.flatMap((e) => Object.keys(e.domainLoss)))),
  ];
  if (domains.length === 0) return [];
  return [
    '</section><section id="domain-loss"><h2>Per-domain validation loss over time</h2><div class="charts small">',
    ...domains.map((d) =>
      lineChart(
        evalSeries(context, (e) => e.domainLoss[d]),
        {
          title: d,
          xLabel: 'step',
          yLabel: 'nats / token',
          width: 380,
          height: 230,
          xDomain: [0, lastStep],
          yRangeFromX: 0.1 * lastStep,
        },
      ),
    ),
    '</div>',
  ];
}

/**
 * The domain mixture over time: one chart per run trained with online domain reweighting (DoReMi,
 * DoGE) and per trajectory passed in the options, a line per domain.
 */
function domainWeightsSection({ runs, trajectories }: ReportContext): string[] {
  const charts: DomainWeightTrajectory[] = [
    ...runs
      .filter((r) => r.train.some((t) => t.domainWeights !== undefined))
      .map((r) => ({
        title: `${r.label}${r.seed !== undefined ? ` (seed ${r.seed})` : ''}`,
        trajectory: r.train.flatMap((t) =>
          t.domainWeights ? [{ step: t.step, weights: t.domainWeights }] : [],
        ),
      })),
    ...trajectories,
  ];
  if (charts.length === 0) return [];
  return [
    '</section><section id="domain-weights"><h2>Domain weights</h2>',
    '<p>The domain mixture each step drew its batch from (online DoReMi / DoGE); a run of a computed mixture trains on the mean of such a trajectory.</p><div class="charts">',
    ...charts.map((c) => {
      const domains = [...new Set(c.trajectory.flatMap((t) => Object.keys(t.weights)))];
      const series: ChartSeries[] = domains.map((d, i) => ({
        name: d,
        color: PALETTE[i % PALETTE.length]!,
        points: c.trajectory.map((t) => [t.step, t.weights[d] ?? null] as const),
      }));
      return lineChart(series, {
        title: `${c.title}: domain weights`,
        xLabel: 'step',
        yLabel: 'weight',
        includeY: [0],
      });
    }),
    '</div>',
  ];
}

/** The weight statistics over time (n max w against the 2/n cap, ESS, rho_hat, entropy, r). */
function weightsSection({ runs, colors }: ReportContext): string[] {
  const weighted = runs.filter((r) => r.train.some((t) => t.weights !== undefined));
  const html = ['</section><section id="weights"><h2>Sample weights</h2>'];
  if (weighted.length === 0) {
    html.push('<p class="nodata">No run logged weight statistics.</p>');
    return html;
  }
  html.push(
    '<div class="charts">',
    trainChart(weighted, colors, (r) => r.weights?.maxWeightTimesN, {
      title: 'n · max weight',
      yLabel: 'n · max w',
      referenceLines: [{ y: 2, label: '2/n cap (Theorem 1)' }],
      includeY: [1],
    }),
    trainChart(
      weighted,
      colors,
      (r) =>
        r.weights?.n ? r.weights.effectiveSampleSize / r.weights.n : r.weights?.effectiveSampleSize,
      { title: 'Effective sample size / n', yLabel: 'ESS / n', includeY: [0, 1] },
    ),
    trainChart(weighted, colors, (r) => r.rhoHat, {
      title: 'ρ̂ = Σ wᵢlᵢ − mean loss',
      yLabel: 'nats / token',
      referenceLines: [{ y: 0, label: 'uniform' }],
    }),
    trainChart(weighted, colors, (r) => r.weights?.entropy, {
      title: 'Weight entropy',
      yLabel: 'nats',
    }),
  );
  const rs = weighted
    .flatMap((r) => r.train.map((t) => t.r))
    .filter((v): v is number => typeof v === 'number' && v > 0);
  if (rs.length > 0) {
    // log scale when r spans a wide range (anneals from r0 = 100 down to 0.4)
    const logY = Math.max(...rs) / Math.min(...rs) >= 20;
    html.push(
      trainChart(
        weighted,
        colors,
        (r) => r.r,
        { title: 'Temperature r (gaps: plain-mean warm-up)', yLabel: 'r', logY },
        false,
      ),
    );
  }
  html.push('</div>');
  return html;
}

function optimizationSection({ runs, colors }: ReportContext): string[] {
  return [
    '</section><section id="optimization"><h2>Optimization</h2><div class="charts">',
    trainChart(runs, colors, (r) => r.lr, { title: 'Learning rate', yLabel: 'lr' }, false),
    trainChart(runs, colors, (r) => r.gradNorm, {
      title: 'Gradient norm (before clipping)',
      yLabel: '‖g‖',
    }),
    trainChart(runs, colors, (r) => r.tokensPerSecond, {
      title: 'Throughput',
      yLabel: 'tokens / s',
      includeY: [0],
    }),
    '</div>',
  ];
}

/** Each run's config, folded. */
function configSection(runs: readonly ReportRun[]): string[] {
  const html = ['</section><section id="config"><h2>Config</h2>'];
  for (const run of runs) {
    const text =
      run.config === undefined ? 'no config recorded' : JSON.stringify(run.config, null, 2);
    html.push(
      `<details><summary>${escapeHtml(run.label)} — ${escapeHtml(run.name)}</summary><pre>${escapeHtml(text)}</pre></details>`,
    );
  }
  html.push('</section></body></html>\n');
  return html;
}

/** Loads the run directories and writes the report to `outPath` atomically; returns the HTML. */
export async function writeReport(
  runDirs: readonly string[],
  outPath: string,
  options: ReportOptions = {},
): Promise<string> {
  const runs = runDirs.map((d) => loadReportRun(d));
  const html = renderReport(runs, options);
  await mkdir(dirname(outPath), { recursive: true });
  await writeBytesAtomic(outPath, html);
  return html;
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { EvalRecord, TrainStepRecord } from './metrics-record.js';
import { readMetrics } from './metrics-writer.js';
import { type PairedDifference, pairBySeed } from './paired-difference.js';
import { runPaths } from './run-directory.js';
import { type RunResults, readRunResults } from './run-results.js';
import { TrainerError } from './trainer-error.js';

/**
 * What the HTML report reads from one run directory: `metrics.jsonl` (required),
 * `results.json` (optional: without it the table uses the last evaluation in the metrics) and
 * `config.json` (optional; `results.config` takes precedence).
 */
export interface ReportRun {
  /** The directory's base name. */
  name: string;
  /** Runs with the same label are seeds of one setting (averaged in the table). */
  label: string;
  method?: string;
  seed?: number;
  train: TrainStepRecord[];
  eval: EvalRecord[];
  /** Final numbers for the tables. */
  results?: RunResults;
  config?: unknown;
}

export function loadReportRun(dir: string): ReportRun {
  const paths = runPaths(dir);
  const metricsPath = paths.metrics;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new TrainerError(
      'report-input',
      `Run directory ${dir} does not exist.`,
      'pass the output directory of a training run (it holds metrics.jsonl).',
    );
  }
  if (!existsSync(metricsPath)) {
    throw new TrainerError(
      'report-input',
      `Run directory ${dir} has no metrics.jsonl.`,
      'pass the output directory of a training run; metrics.jsonl appears after its first step.',
    );
  }
  const metrics = readMetrics(metricsPath);
  const stored = readRunResults(dir);
  let config = stored?.config;
  const configPath = paths.config;
  if (config === undefined && existsSync(configPath)) {
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (error) {
      throw new TrainerError(
        'report-input',
        `${configPath} is not valid JSON (${(error as Error).message}).`,
        'repair or remove it.',
      );
    }
  }
  const configMethod = (config as { method?: unknown } | undefined)?.method;
  const method = stored?.method ?? (typeof configMethod === 'string' ? configMethod : undefined);
  const configSeed = (config as { seed?: unknown } | undefined)?.seed;
  const seed = stored?.seed ?? (typeof configSeed === 'number' ? configSeed : undefined);
  const results = stored ?? resultsFromLastEval(metrics.eval, method ?? 'unknown');
  const name = basename(resolve(dir));
  const run: ReportRun = {
    name,
    label: results?.label ?? method ?? name,
    train: metrics.train,
    eval: metrics.eval,
  };
  if (method !== undefined) run.method = method;
  if (seed !== undefined) run.seed = seed;
  if (results !== undefined) run.results = results;
  if (config !== undefined) run.config = config;
  return run;
}

function resultsFromLastEval(evals: readonly EvalRecord[], method: string): RunResults | undefined {
  const last = evals.at(-1);
  if (last === undefined) return undefined;
  const domains: RunResults['domains'] = {};
  for (const [d, loss] of Object.entries(last.domainLoss)) {
    domains[d] = { loss, perplexity: last.domainPerplexity[d] ?? Math.exp(loss) };
  }
  return { method, steps: last.step, domains };
}

/** mean and sample standard deviation (0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

export interface TableCell {
  mean: number;
  std: number;
  /** Number of seeds. */
  n: number;
  /** mean minus the baseline's mean in this row (undefined for the baseline or when it lacks the row). */
  delta?: number;
  /**
   * The paired difference from the baseline over the seeds both ran (same seed: same
   * initialisation and data order), with its Student-t interval from 2 seeds on. Absent for the
   * baseline, and when a label's runs lack seeds or repeat one (they cannot be paired).
   */
  paired?: PairedDifference;
}

export interface ComparisonTable {
  /** Column labels, baseline first. */
  labels: string[];
  /** Row names: the domains (or tasks), then "mean". */
  rows: string[];
  /** cells[row][label]; missing when that label has no value for the row. */
  cells: Record<string, Record<string, TableCell>>;
  baseline: string | undefined;
  /** Confidence of the paired intervals (comparisonTable: 0.95 unless asked otherwise). */
  confidence?: number;
}

/**
 * The paper's Table 1 shape: one row per domain plus the mean over domains, one column per
 * label (seeds averaged, with their standard deviation), and each label's difference from the
 * baseline (uniform): the difference of the means, and the paired difference seed by seed with
 * its `confidence` Student-t interval. The mean row averages each run's domains first, then
 * over seeds.
 */
export function comparisonTable(
  runs: readonly ReportRun[],
  value: (r: RunResults) => Record<string, number> | undefined,
  baselineLabel = 'uniform',
  confidence = 0.95,
): ComparisonTable {
  const labels: string[] = [];
  const rowNames: string[] = [];
  const perLabel = new Map<string, Record<string, number>[]>();
  const seedsOf = new Map<string, (number | undefined)[]>();
  for (const run of runs) {
    const values = run.results ? value(run.results) : undefined;
    if (values === undefined || Object.keys(values).length === 0) continue;
    if (!perLabel.has(run.label)) {
      perLabel.set(run.label, []);
      seedsOf.set(run.label, []);
      labels.push(run.label);
    }
    perLabel.get(run.label)!.push(values);
    seedsOf.get(run.label)!.push(run.seed ?? run.results?.seed);
    for (const row of Object.keys(values)) if (!rowNames.includes(row)) rowNames.push(row);
  }
  // a label's runs can be paired by seed when each has one and none repeats
  const pairable = (label: string) => {
    const seeds = seedsOf.get(label)!;
    return seeds.every((s) => s !== undefined) && new Set(seeds).size === seeds.length;
  };
  const bySeed = (label: string, row: string): Map<number, number> => {
    const seeds = seedsOf.get(label)!;
    const out = new Map<number, number>();
    for (const [i, s] of perLabel.get(label)!.entries()) {
      const v =
        row === 'mean'
          ? rowNames.every((r) => r in s)
            ? rowNames.reduce((a, r) => a + s[r]!, 0) / rowNames.length
            : undefined
          : s[row];
      if (typeof v === 'number') out.set(seeds[i]!, v);
    }
    return out;
  };
  const baseline = labels.includes(baselineLabel) ? baselineLabel : undefined;
  if (baseline !== undefined) {
    labels.splice(labels.indexOf(baseline), 1);
    labels.unshift(baseline);
  }
  const cells: ComparisonTable['cells'] = {};
  const rows = [...rowNames, 'mean'];
  for (const row of rows) {
    cells[row] = {};
    for (const label of labels) {
      const seeds = perLabel.get(label)!;
      const vs =
        row === 'mean'
          ? seeds
              .filter((s) => rowNames.every((r) => r in s))
              .map((s) => rowNames.reduce((a, r) => a + s[r]!, 0) / rowNames.length)
          : seeds.map((s) => s[row]).filter((v): v is number => typeof v === 'number');
      if (vs.length > 0) cells[row]![label] = meanStd(vs);
    }
    const base = baseline === undefined ? undefined : cells[row]![baseline];
    for (const label of labels) {
      const cell = cells[row]![label];
      if (cell === undefined || base === undefined || label === baseline) continue;
      cell.delta = cell.mean - base.mean;
      if (pairable(label) && pairable(baseline!)) {
        const paired = pairBySeed(bySeed(label, row), bySeed(baseline!, row), confidence);
        if (paired !== undefined) cell.paired = paired;
      }
    }
  }
  return { labels, rows, cells, baseline, confidence };
}

/**
 * Thins a per-step series to at most `buckets` points, each the mean of consecutive steps
 * (nulls and non-finite values left out; a bucket with none gives null, a gap in the line).
 */
export function bucketMeans(
  points: readonly (readonly [number, number | null | undefined])[],
  buckets = 400,
): { points: [number, number | null][]; stepsPerPoint: number } {
  const size = Math.max(1, Math.ceil(points.length / buckets));
  const out: [number, number | null][] = [];
  for (let i = 0; i < points.length; i += size) {
    const chunk = points.slice(i, i + size);
    const ys = chunk
      .map(([, y]) => y)
      .filter((y): y is number => typeof y === 'number' && Number.isFinite(y));
    const x = chunk.reduce((a, [s]) => a + s, 0) / chunk.length;
    out.push([x, ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : null]);
  }
  return { points: out, stepsPerPoint: size };
}

/** Summary numbers of one run for the report's run table. */
export interface RunSummary {
  steps: number;
  tokens: number | undefined;
  finalTrainLoss: number | undefined;
  finalValLoss: number | undefined;
  medianTokensPerSecond: number | undefined;
  skippedSteps: number;
  /** Fraction of steps with weight statistics where max w <= 2/n held. */
  capHeldFraction: number | undefined;
  meanEssFraction: number | undefined;
  meanRhoHat: number | undefined;
}

function meanOf(values: number[]): number | undefined {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

export function summarizeRun(run: ReportRun): RunSummary {
  const train = run.train;
  const last = train.at(-1);
  const tail = train.slice(Math.floor(train.length * 0.9));
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const rates = train
    .map((r) => r.tokensPerSecond)
    .filter(num)
    .sort((a, b) => a - b);
  const withWeights = train.filter((r) => r.weights !== undefined);
  const ess = withWeights
    .filter((r) => num(r.weights!.n) && r.weights!.n! > 0)
    .map((r) => r.weights!.effectiveSampleSize / r.weights!.n!);
  return {
    steps: last?.step ?? 0,
    tokens: run.results?.tokens ?? [...train].reverse().find((r) => num(r.tokens))?.tokens,
    finalTrainLoss: meanOf(tail.map((r) => r.meanLoss).filter(num)),
    finalValLoss: run.eval.at(-1)?.loss,
    medianTokensPerSecond: rates.length ? rates[Math.floor(rates.length / 2)] : undefined,
    skippedSteps: train.filter((r) => r.skipped !== undefined).length,
    capHeldFraction: withWeights.length
      ? withWeights.filter((r) => r.weights!.capHolds).length / withWeights.length
      : undefined,
    meanEssFraction: meanOf(ess),
    meanRhoHat: meanOf(train.map((r) => r.rhoHat).filter(num)),
  };
}

import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openDataset } from '@lrw/data';
import { type Command, InvalidArgumentError } from 'commander';
import { writeBytesAtomic } from '../../atomic-write.js';
import { METHODS, type Method, methodsHelp, type TrainerConfig } from '../../config.js';
import { hasSlimPajamaDomains, streamMixture } from '../../data-mixture.js';
import { checkWeightsFitDomains, readDomainWeightsFile } from '../../domain-weights-file.js';
import { type DomainWeightTrajectory, writeReport } from '../../html-report.js';
import { type ComparisonTable, comparisonTable, loadReportRun } from '../../report-data.js';
import { runPaths } from '../../run-directory.js';
import { type RunResults, readRunResults, writeRunResults } from '../../run-results.js';
import { trainRun } from '../../run-training.js';
import { TrainerError } from '../../trainer-error.js';
import { evaluateRun, taskDataFiles } from '../evaluate-run.js';
import { CliError, type CliIo, progressLine } from '../io.js';
import { choice, closest, integer, integerList, list } from '../options.js';
import { trainInChildren } from '../parallel-runs.js';
import { addTrainFlags, buildConfig, type TrainFlags } from '../run-config.js';
import { stopOnSignals } from '../stop-signals.js';
import { formatComparison, formatPairedDifferences } from '../tables.js';
import { addTaskFlags, type TaskFlags } from '../task-flags.js';
import { computeDomainWeights, type DomainMethod, formatDomainWeights } from './domain-weights.js';
import { requireDataset } from './train.js';

export const DEFAULT_COMPARE_METHODS: Method[] = ['uniform', 'linupper', 'quadratic', 'extremes'];
export const MIXTURES = ['uniform', 'doge', 'doremi'] as const;

/** A --mixtures entry: a mixture name or a domain-weights JSON file (a path ending in .json). */
function mixtureEntry(value: string): string {
  if ((MIXTURES as readonly string[]).includes(value) || value.endsWith('.json')) return value;
  const near = closest(value, MIXTURES);
  throw new InvalidArgumentError(
    `Use ${MIXTURES.join(', ')} or a domain-weights .json file${near ? ` (did you mean ${near}?)` : ''}.`,
  );
}

/** A mixture's name in labels: a file's name, or its folder's for a domain-weights.json. */
function mixtureLabel(mixture: string): string {
  if (!mixture.endsWith('.json')) return mixture;
  const name = basename(mixture, '.json');
  return name === 'domain-weights' ? basename(dirname(resolve(mixture))) : name;
}

export interface CompareOptions extends TrainFlags, TaskFlags {
  data: string;
  out: string;
  methods: Method[];
  mixtures?: string[];
  seeds?: number[];
  resume?: boolean;
  /** Runs trained side by side as child processes (default 1: one after another, in-process). */
  jobs?: number;
  /** MPI ranks per run (default 1); the global batch stays --batch-size. */
  ranks?: number;
  report?: boolean;
  title?: string;
}

/** One run of the comparison: a label (method or mixture), its method and domain weights, a seed. */
export interface PlannedRun {
  label: string;
  method: Method;
  domainWeights?: string;
  seed: number;
  dir: string;
}

/** `<out>/results.json` of lrw compare. */
export interface CompareResults {
  kind: 'lrw-compare';
  data: string;
  seeds: number[];
  runs: (RunResults & { dir: string })[];
  /** Per-domain validation perplexity, the paper's Table 1 shape. */
  perplexity: ComparisonTable;
  /** Few-shot accuracy (fractions), the paper's Table 2 shape, when tasks were run. */
  tasks?: ComparisonTable;
  report?: string;
}

/**
 * Two run configs are the same experiment when they differ at most in outputDir and evalBatches
 * (a config written before the `backend` field existed trained on the default, cpu).
 */
function sameConfig(a: unknown, b: unknown): boolean {
  // evalBatches: how a run was evaluated (the child `lrw train` of --jobs records it)
  const strip = (c: unknown) =>
    JSON.stringify({
      backend: 'cpu',
      ...(c as object),
      outputDir: undefined,
      evalBatches: undefined,
    });
  return strip(a) === strip(b);
}

export function planRuns(opts: CompareOptions): PlannedRun[] {
  const seeds = opts.seeds?.length ? [...new Set(opts.seeds)] : [opts.seed ?? 0];
  // every method on every mixture (the uniform mixture always): the paper's DoGE, DoGE +
  // LinUpper, ... columns
  const methods = [...new Set(opts.methods)];
  const mixtures = ['uniform', ...new Set((opts.mixtures ?? []).filter((m) => m !== 'uniform'))];
  const settings: { label: string; method: Method; domainWeights?: string }[] = mixtures.flatMap(
    (mixture) =>
      methods.map((method) => {
        if (mixture === 'uniform') return { label: method, method };
        const name = mixtureLabel(mixture);
        const label = method === 'uniform' ? name : `${name}+${method}`;
        return { label, method, domainWeights: mixture };
      }),
  );
  const runs: PlannedRun[] = [];
  for (const s of settings) {
    for (const seed of seeds) {
      const name = seeds.length > 1 ? `${s.label}-s${seed}` : s.label;
      runs.push({ ...s, seed, dir: join(resolve(opts.out), name) });
    }
  }
  return runs;
}

/**
 * The paper's experiment as one command: the same data, model, seed(s) and budget for each
 * method (and static mixture), one run after another; then the tables and the report.
 */
export async function runCompare(opts: CompareOptions, io: CliIo): Promise<CompareResults> {
  const data = resolve(opts.data);
  requireDataset(data);
  const tasks = opts.tasks ?? [];
  const dataFiles = tasks.length ? taskDataFiles(tasks, opts.taskData, opts.taskFile) : {};
  const plan = planRuns(opts);
  const { domains } = await openDataset(data);
  // doge and doremi name the paper's SlimPajama vectors; on other domains they are computed here
  const computed = new Set(
    plan
      .map((p) => p.domainWeights)
      .filter(
        (w): w is DomainMethod =>
          (w === 'doge' || w === 'doremi') && !hasSlimPajamaDomains(domains),
      ),
  );
  const files = new Map<string, Record<string, number>>();
  for (const p of plan) {
    const w = p.domainWeights;
    if (w?.endsWith('.json') && !files.has(w)) {
      const weights = readDomainWeightsFile(w);
      checkWeightsFitDomains(w, weights, domains);
      files.set(w, weights);
    }
  }
  const weightsOf = (w: string | undefined) =>
    w === undefined || computed.has(w as DomainMethod) ? undefined : (files.get(w) ?? w);
  // validate every config before the first (long) run starts
  const configs = await Promise.all(
    plan.map((p) => {
      const w = weightsOf(p.domainWeights);
      return buildConfig({ ...opts, seed: p.seed, ...(w ? { domainWeights: w } : {}) }, p.method);
    }),
  );
  // the domain weights must fit the dataset: checked for every run before the first starts
  for (const c of configs) streamMixture(c.domainWeights, domains);
  for (const p of plan) {
    if (!opts.resume && existsSync(runPaths(p.dir).metrics)) {
      throw new CliError(
        `${p.dir} already holds a run.`,
        'add --resume to keep finished runs and continue interrupted ones, or choose another --out.',
      );
    }
  }
  const trajectories: DomainWeightTrajectory[] = [];
  for (const kind of [...computed].sort()) {
    const dir = join(resolve(opts.out), 'mixtures', kind);
    io.stderr(
      `${kind}: the dataset's domains are not SlimPajama's, so the ${kind === 'doremi' ? 'DoReMi' : 'DoGE'} weights are computed on it (${kind === 'doremi' ? 'a reference and a proxy run' : 'a proxy run'} of this budget) -> ${dir}\n`,
    );
    const { domainWeights: _w, ...flags } = opts;
    const { result } = await computeDomainWeights(
      kind,
      { ...flags, data, out: dir, seed: plan[0]!.seed, resume: opts.resume === true },
      io,
    );
    io.stderr(formatDomainWeights(result));
    trajectories.push({
      title: `${kind} proxy (the ${kind} runs use its mean)`,
      trajectory: result.trajectory,
    });
    for (const [i, p] of plan.entries()) {
      if (p.domainWeights === kind) configs[i] = { ...configs[i]!, domainWeights: result.weights };
    }
  }
  const kept = plan.map((p) => (opts.resume ? readRunResults(p.dir) : undefined));
  const ranks = opts.ranks ?? 1;
  if (ranks > 1) {
    const bad = configs.find((c) => c.batchSize % ranks !== 0);
    if (bad) {
      throw new CliError(
        `--ranks ${ranks} splits each run's batch among the ranks, but --batch-size ${bad.batchSize} is not a multiple of ${ranks}.`,
        `choose a --batch-size that ${ranks} divides (the global batch; each rank trains batchSize / ${ranks} samples).`,
      );
    }
  }
  // the child runs of --ranks record their per-rank batch size
  const asTrained = (c: TrainerConfig) =>
    ranks > 1 ? { ...c, batchSize: c.batchSize / ranks } : c;
  for (const [i, k] of kept.entries()) {
    if (k !== undefined && !sameConfig(k.config, asTrained(configs[i]!))) {
      throw new CliError(
        `${plan[i]!.dir} holds a finished run with another config than this command's.`,
        'use another --out for a new budget, or delete that run directory to train it again.',
      );
    }
  }
  const trained: (RunResults | undefined)[] = [...kept];
  const jobs = opts.jobs ?? 1;
  if (jobs > 1 || ranks > 1) {
    const todo = plan.map((p, i) => ({ p, i })).filter(({ i }) => kept[i] === undefined);
    for (const { p, i } of plan
      .map((p, i) => ({ p, i }))
      .filter(({ i }) => kept[i] !== undefined)) {
      io.stderr(
        `[${i + 1}/${plan.length}] ${p.label}, seed ${p.seed}: finished before, kept -> ${p.dir}\n`,
      );
    }
    io.stderr(
      `training ${todo.length} runs, ${Math.min(jobs, todo.length)} at a time (child processes${ranks > 1 ? `, each on ${ranks} MPI ranks` : ''})\n`,
    );
    const done = await trainInChildren(
      todo.map(({ p, i }) => ({ label: p.label, dir: p.dir, config: configs[i]! })),
      {
        data,
        jobs,
        ranks,
        resume: opts.resume === true,
        ...(opts.evalBatches !== undefined ? { evalBatches: opts.evalBatches } : {}),
      },
      io,
    );
    for (const [k, { i }] of todo.entries()) trained[i] = done[k];
  } else {
    const stop = stopOnSignals(io);
    try {
      for (const [i, p] of plan.entries()) {
        io.stderr(
          `[${i + 1}/${plan.length}] ${p.label}, seed ${p.seed}${kept[i] ? ': finished before, kept' : ''} -> ${p.dir}\n`,
        );
        trained[i] ??= (
          await trainRun(configs[i]!, {
            dataDir: data,
            outDir: p.dir,
            label: p.label,
            resume: opts.resume === true,
            progress: progressLine(io, configs[i]!.steps, p.label),
            signal: stop.signal,
            ...(opts.evalBatches !== undefined ? { evalBatches: opts.evalBatches } : {}),
          })
        ).results;
      }
    } catch (error) {
      if (TrainerError.isInstance(error) && error.code === 'interrupted') {
        throw new CliError(
          error.message.split('\nHINT: ')[0]!,
          'run the same command again with --resume: finished runs are kept and the stopped one continues from its checkpoint.',
          stop.exitCode,
        );
      }
      throw error;
    } finally {
      stop.dispose();
    }
  }
  const runs: (RunResults & { dir: string })[] = [];
  for (const [i, p] of plan.entries()) {
    let results = trained[i]!;
    if (tasks.length > 0 && results.tasks === undefined) {
      io.stderr(`tasks ${tasks.join(', ')}: ${p.label}, seed ${p.seed}\n`);
      const ev = await evaluateRun(p.dir, {
        data,
        tasks,
        dataFiles,
        ...(opts.numFewshot !== undefined ? { numFewshot: opts.numFewshot } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        evalBatches: 1,
        io,
      });
      results = { ...results, tasks: ev.accuracy ?? {} };
      await writeRunResults(p.dir, results);
    }
    runs.push({ ...results, dir: p.dir });
  }
  const loaded = plan.map((p) => loadReportRun(p.dir));
  const perplexity = comparisonTable(loaded, (r) =>
    Object.fromEntries(Object.entries(r.domains).map(([d, v]) => [d, v.perplexity])),
  );
  const out: CompareResults = {
    kind: 'lrw-compare',
    data,
    seeds: [...new Set(plan.map((p) => p.seed))],
    runs,
    perplexity,
  };
  if (tasks.length > 0) out.tasks = comparisonTable(loaded, (r) => r.tasks);
  if (opts.report !== false) {
    out.report = join(resolve(opts.out), 'report.html');
    await writeReport(
      plan.map((p) => p.dir),
      out.report,
      {
        title: opts.title ?? `lrw compare: ${[...new Set(plan.map((p) => p.label))].join(' vs ')}`,
        domainWeightTrajectories: trajectories,
      },
    );
  }
  await writeBytesAtomic(
    join(resolve(opts.out), 'results.json'),
    `${JSON.stringify(out, null, 2)}\n`,
  );
  return out;
}

/** The printed tables of a comparison (Table 1, and Table 2 when tasks were run). */
export function formatCompareResults(r: CompareResults): string {
  let text = formatComparison(r.perplexity, {
    title: 'Validation perplexity per domain (lower is better)',
  });
  const paired = formatPairedDifferences(r.perplexity, { title: 'Perplexity' });
  if (paired) text += `\n${paired}`;
  if (r.tasks && r.tasks.rows.length > 1) {
    text += `\n${formatComparison(r.tasks, { percent: true, digits: 1, title: 'Few-shot accuracy, % (higher is better)' })}`;
    const pairedTasks = formatPairedDifferences(r.tasks, {
      percent: true,
      digits: 1,
      title: 'Accuracy, percentage points',
    });
    if (pairedTasks) text += `\n${pairedTasks}`;
  }
  return text;
}

export function registerCompare(program: Command, io: CliIo): void {
  const command = program
    .command('compare')
    .summary("the paper's experiment: several methods, same data, seed and budget, one table")
    .description(
      "Trains one run per method (and per static domain mixture, and per seed) with the same data, model, seed and budget, then prints per-domain validation perplexity shaped like the paper's Table 1 (methods as columns, the mean over domains, the difference from uniform; mean ± std over seeds; each method's paired difference from uniform with the same seed and its 95% Student-t interval), few-shot accuracy like its Table 2 with --tasks, and writes <out>/results.json and <out>/report.html.",
    )
    .option('-d, --data <dir>', 'prepared dataset (lrw prepare --out)', 'data/default')
    .option('-o, --out <dir>', 'folder of the runs, results.json and report.html', 'runs/compare')
    .option(
      '--methods <list>',
      `weighting methods, comma-separated: ${methodsHelp()}`,
      (v: string, prev: Method[] | undefined) => {
        const parse = choice(METHODS);
        return [...(prev ?? []), ...list(v, undefined).map((m) => parse(m))];
      },
    )
    .option(
      '--mixtures <list>',
      "domain mixtures, comma-separated; every method runs on each: uniform, doge, doremi (the paper's vectors on SlimPajama's domains; on other domains computed first, as lrw doge / lrw doremi do, into <out>/mixtures), or a domain-weights .json file",
      (v: string, prev: string[] | undefined) => [
        ...(prev ?? []),
        ...list(v, undefined).map(mixtureEntry),
      ],
    )
    .option(
      '--seeds <list>',
      'seeds, comma-separated, e.g. 0,1,2 (mean ± std, and paired 95% intervals from 2 seeds on)',
      integerList,
    );
  addTaskFlags(addTrainFlags(command), 'validation batches per evaluation')
    .option('--resume', 'keep finished runs of --out and continue interrupted ones')
    .option(
      '-j, --jobs <n>',
      'runs trained side by side in child processes (one per core helps the CPU backend)',
      integer(1),
      1,
    )
    .option(
      '--ranks <n>',
      'train each run data-parallel on n MPI ranks (mpirun -np n lrw train; --batch-size stays the global batch, each rank takes batch / n)',
      integer(1),
      1,
    )
    .option('--no-report', 'do not write report.html')
    .option('--title <text>', 'report title')
    .addHelpText(
      'after',
      '\nExamples:\n  lrw compare --data data/default --steps 2000 --seeds 0,1,2\n  lrw compare --methods uniform,linupper,dro-kl --tasks piqa,sciq --task-data ../shared/data/eval\n',
    )
    .action(async (opts: CompareOptions) => {
      const methods = opts.methods ?? DEFAULT_COMPARE_METHODS;
      const r = await runCompare({ ...opts, methods }, io);
      io.stdout(formatCompareResults(r));
      io.stdout(
        `\nresults: ${join(resolve(opts.out), 'results.json')}${r.report ? `\nreport: ${r.report}` : ''}\n`,
      );
    });
}

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '../../html-report.js';
import { runPaths } from '../../run-directory.js';
import { CliError, type CliIo } from '../io.js';

/**
 * The run directories named on the command line: a run directory (it holds metrics.jsonl) is
 * taken as is; a folder of runs (as `lrw compare` writes) contributes each run inside it.
 */
export function expandRunDirs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const dir = resolve(p);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new CliError(
        `${p} is not a directory.`,
        'pass run directories (the --out of lrw train, each holding metrics.jsonl) or the folder lrw compare wrote.',
      );
    }
    if (existsSync(runPaths(dir).metrics)) {
      out.push(dir);
      continue;
    }
    const inner = readdirSync(dir)
      .sort()
      .map((name) => join(dir, name))
      .filter((d) => statSync(d).isDirectory() && existsSync(runPaths(d).metrics));
    if (inner.length === 0) {
      throw new CliError(
        `${p} holds no run: neither ${runPaths(dir).metrics} nor run directories with metrics.jsonl inside.`,
        'pass the --out folder of lrw train or lrw compare after the run has taken a step.',
      );
    }
    out.push(...inner);
  }
  return out;
}

export interface ReportCommandOptions {
  out?: string;
  title?: string;
  baseline: string;
}

export async function runReport(
  paths: readonly string[],
  opts: ReportCommandOptions,
): Promise<{ path: string; runs: string[] }> {
  const runs = expandRunDirs(paths);
  const out = resolve(
    opts.out ?? (paths.length === 1 ? join(paths[0]!, 'report.html') : 'report.html'),
  );
  await writeReport(runs, out, {
    baseline: opts.baseline,
    ...(opts.title !== undefined ? { title: opts.title } : {}),
  });
  return { path: out, runs };
}

export function registerReport(program: Command, io: CliIo): void {
  program
    .command('report')
    .summary('write the HTML report of one or more runs')
    .description(
      'Writes one self-contained HTML file (inline SVG charts, no script, nothing fetched) comparing runs: the per-domain perplexity table (Table 1 shape, seeds averaged), training and validation loss, per-domain loss over time, the weight statistics against the 2/n cap, rho_hat, throughput and each config.',
    )
    .argument('<runs...>', 'run directories, or a folder of runs written by lrw compare')
    .option(
      '-o, --out <file>',
      'HTML file to write (default: <run>/report.html for one argument, else ./report.html)',
    )
    .option('--title <text>', 'report title')
    .option('--baseline <label>', 'column the differences are taken against', 'uniform')
    .addHelpText(
      'after',
      '\nExamples:\n  lrw report runs/compare              every run lrw compare wrote there\n  lrw report runs/a runs/b -o ab.html\n',
    )
    .action(async (paths: string[], opts: ReportCommandOptions) => {
      const { path, runs } = await runReport(paths, opts);
      io.stdout(`report of ${runs.length} run${runs.length === 1 ? '' : 's'}: ${path}\n`);
    });
}

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { METHODS, type Method, methodsHelp } from '../../config.js';
import { runPaths } from '../../run-directory.js';
import { trainRun } from '../../run-training.js';
import { CliError, type CliIo, progressLine } from '../io.js';
import { choice, integer } from '../options.js';
import { addTrainFlags, buildConfig, type TrainFlags } from '../run-config.js';
import { formatDomainResults } from '../tables.js';

export interface TrainCommandOptions extends TrainFlags {
  data: string;
  out?: string;
  method?: Method;
  label?: string;
  resume?: boolean;
  evalBatches?: number;
}

/** Fails early, with the command to type, when a dataset folder has not been prepared. */
export function requireDataset(dir: string): void {
  if (!existsSync(join(dir, 'index.lrw'))) {
    throw new CliError(
      `${dir} holds no prepared dataset (no index.lrw).`,
      `run \`lrw prepare --out ${dir}\` first (the embedded default corpus), or pass --data <dir> of a prepared dataset.`,
    );
  }
}

export function registerTrain(program: Command, io: CliIo): void {
  const command = program
    .command('train')
    .summary('train one model with a weighting method (config file and/or flags)')
    .description(
      'Trains a GPT on a prepared dataset with per-sample loss reweighting: per-sample losses -> weights of the method -> sum_i w_i l_i -> AdamW. Writes config.json, metrics.jsonl, checkpoints/ and results.json into --out. Flags override the fields of --config; see @lrw/trainer README "Config" for every field.',
    )
    .option('-d, --data <dir>', 'prepared dataset (lrw prepare --out)', 'data/default')
    .option('-o, --out <dir>', 'run directory (default: the config outputDir, runs/run)')
    .option('--method <name>', `weighting method: ${methodsHelp()}`, choice(METHODS));
  addTrainFlags(command)
    .option(
      '--label <name>',
      'name of the run in reports (runs with one label are seeds of a setting)',
    )
    .option(
      '--eval-batches <n>',
      'validation batches per evaluation (default: the whole split)',
      integer(1),
    )
    .option(
      '--resume',
      'continue from the latest checkpoint in --out (bit-identical to an uninterrupted run)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  lrw train --data data/default --method linupper --steps 2000 --out runs/linupper\n  lrw train --config run.json --resume\n',
    )
    .action(async (opts: TrainCommandOptions) => {
      const config = await buildConfig(opts, opts.method);
      const outDir = resolve(opts.out ?? config.outputDir);
      const data = resolve(opts.data);
      requireDataset(data);
      if (!opts.resume && existsSync(runPaths(outDir).metrics)) {
        throw new CliError(
          `${outDir} already holds a run (metrics.jsonl).`,
          `add --resume to continue it, or choose another --out.`,
        );
      }
      const { results } = await trainRun(config, {
        dataDir: data,
        outDir,
        resume: opts.resume === true,
        progress: progressLine(io, config.steps, opts.label ?? config.method),
        ...(opts.label !== undefined ? { label: opts.label } : {}),
        ...(opts.evalBatches !== undefined ? { evalBatches: opts.evalBatches } : {}),
      });
      io.stdout(formatDomainResults(results));
      io.stdout(`run directory: ${outDir} (report: lrw report ${outDir})\n`);
    });
}

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeBytesAtomic } from '../../atomic-write.js';
import { parseTrainerConfig, type TrainerConfig } from '../../config.js';
import { DOGE_DEFAULTS, DOREMI_DEFAULTS } from '../../domain-updates.js';
import type { DomainWeightsFile } from '../../online-domain-weights.js';
import { runPaths } from '../../run-directory.js';
import { DOMAIN_WEIGHTS_FILE, trainRun } from '../../run-training.js';
import { TrainerError } from '../../trainer-error.js';
import { CliError, type CliIo, progressLine } from '../io.js';
import { fraction, integer, positiveNumber } from '../options.js';
import { addTrainFlags, buildConfig, type TrainFlags } from '../run-config.js';
import { stopOnSignals } from '../stop-signals.js';
import { textTable } from '../tables.js';
import { requireDataset } from './train.js';

export type DomainMethod = 'doremi' | 'doge';

export interface DomainWeightsOptions extends TrainFlags {
  data: string;
  out: string;
  resume?: boolean;
  stepSize?: number;
  smoothing?: number;
  mu?: number;
  probeSamples?: number;
  evalBatches?: number;
}

/**
 * The full workflow of `lrw doremi` / `lrw doge` on a prepared dataset: DoReMi trains a reference
 * model with the flags' mixture (uniform by default) into <out>/reference, then a proxy with
 * Group DRO over the domains into <out>/proxy; DoGE trains the proxy only. The proxy's
 * domain-weights.json (mean weights and trajectory) is copied to <out>/domain-weights.json.
 */
export async function computeDomainWeights(
  kind: DomainMethod,
  opts: DomainWeightsOptions,
  io: CliIo,
): Promise<{ file: string; result: DomainWeightsFile }> {
  const data = resolve(opts.data);
  requireDataset(data);
  const out = resolve(opts.out);
  const { domainReweighting: _k, reference: _r, ...flags } = opts;
  // the reference and the proxy train with uniform sample weights; a config file's own
  // domainReweighting is replaced by this command's
  const { domainReweighting: _fromFile, ...base } = await buildConfig(flags, 'uniform');
  if (opts.r !== undefined || opts.reweightWarmup !== undefined) {
    io.stderr(
      `lrw ${kind}: note: --r and --reweight-warmup do not apply: the runs here train with uniform sample weights (use them with lrw train --domain-weights <the weights>).\n`,
    );
  }
  const referenceDir = join(out, 'reference');
  const proxyDir = join(out, 'proxy');
  const probe = opts.probeSamples !== undefined ? { probeSamples: opts.probeSamples } : {};
  const reweighting =
    kind === 'doremi'
      ? {
          kind,
          reference: referenceDir,
          ...(opts.stepSize !== undefined ? { stepSize: opts.stepSize } : {}),
          ...(opts.smoothing !== undefined ? { smoothing: opts.smoothing } : {}),
          ...probe,
        }
      : { kind, ...(opts.mu !== undefined ? { mu: opts.mu } : {}), ...probe };
  const runs: { label: string; dir: string; config: TrainerConfig }[] = [
    ...(kind === 'doremi'
      ? [{ label: 'reference', dir: referenceDir, config: { ...base, outputDir: referenceDir } }]
      : []),
    {
      label: `${kind} proxy`,
      dir: proxyDir,
      config: parseTrainerConfig(
        { ...base, outputDir: proxyDir, domainReweighting: reweighting },
        opts.config ?? 'command-line flags',
      ),
    },
  ];
  for (const r of runs) {
    if (!opts.resume && existsSync(runPaths(r.dir).metrics)) {
      throw new CliError(
        `${r.dir} already holds a run.`,
        'add --resume to keep finished runs and continue an interrupted one, or choose another --out.',
      );
    }
  }
  const stop = stopOnSignals(io);
  try {
    for (const [i, r] of runs.entries()) {
      io.stderr(`[${i + 1}/${runs.length}] ${r.label} -> ${r.dir}\n`);
      await trainRun(r.config, {
        dataDir: data,
        outDir: r.dir,
        label: r.label,
        resume: opts.resume === true,
        progress: progressLine(io, r.config.steps, r.label),
        signal: stop.signal,
        ...(opts.evalBatches !== undefined ? { evalBatches: opts.evalBatches } : {}),
      });
    }
  } catch (error) {
    if (TrainerError.isInstance(error) && error.code === 'interrupted') {
      throw new CliError(
        error.message.split('\nHINT: ')[0]!,
        `run the same command again with --resume: finished runs are kept and the stopped one continues from its checkpoint.`,
        stop.exitCode,
      );
    }
    throw error;
  } finally {
    stop.dispose();
  }
  const text = readFileSync(join(proxyDir, DOMAIN_WEIGHTS_FILE), 'utf8');
  const file = join(out, DOMAIN_WEIGHTS_FILE);
  await writeBytesAtomic(file, text);
  return { file, result: JSON.parse(text) as DomainWeightsFile };
}

/** The weights as a table: the mean (the output) and the last step's. */
export function formatDomainWeights(r: DomainWeightsFile): string {
  const rows = Object.keys(r.weights).map((d) => [
    d,
    r.weights[d]!.toFixed(4),
    (r.final[d] ?? 0).toFixed(4),
  ]);
  return `${r.method === 'doremi' ? 'DoReMi' : 'DoGE'} domain weights over ${r.steps} steps\n${textTable(['domain', 'mean (output)', 'last step'], rows)}\n`;
}

function register(program: Command, io: CliIo, kind: DomainMethod): void {
  const doremi = kind === 'doremi';
  const command = program
    .command(kind)
    .summary(
      doremi
        ? 'compute DoReMi domain weights on a dataset (reference run, then a Group DRO proxy)'
        : 'compute DoGE domain weights on a dataset (a proxy with gradient-alignment updates)',
    )
    .description(
      doremi
        ? "DoReMi (Xie et al., NeurIPS 2023) on any prepared multi-domain dataset: trains a reference model with the default mixture (or --domain-weights) into <out>/reference, then a proxy of the same size into <out>/proxy whose domain weights take an exponentiated-gradient step on the clipped per-token excess loss over the reference every step (step size 1, smoothing 1e-3 with the uniform mixture, the paper's values). The proxy samples its batches from the current weights. Writes <out>/domain-weights.json: the mean weights (the output), the last ones and the trajectory; use it with `lrw train --domain-weights <file>` or `lrw compare --mixtures <file>`."
        : "DoGE (Fan et al., 2024) on any prepared multi-domain dataset: trains a proxy into <out>/proxy whose domain weights take a mirror step on each domain's gradient alignment <g_i, sum_j g_j> every step (step size: learning rate / mu, mu 1 by default). The proxy samples its batches from the current weights. Writes <out>/domain-weights.json: the mean weights (the output), the last ones and the trajectory; use it with `lrw train --domain-weights <file>` or `lrw compare --mixtures <file>`.",
    )
    .option('-d, --data <dir>', 'prepared dataset (lrw prepare --out)', 'data/default')
    .option('-o, --out <dir>', 'folder of the runs and domain-weights.json', `runs/${kind}`);
  addTrainFlags(command);
  if (doremi) {
    command
      .option(
        '--step-size <eta>',
        `exponentiated-gradient step size (default ${DOREMI_DEFAULTS.stepSize})`,
        positiveNumber,
      )
      .option(
        '--smoothing <c>',
        `weight of the uniform mixture mixed in every step, in [0, 1) (default ${DOREMI_DEFAULTS.smoothing})`,
        fraction,
      );
  } else {
    command.option(
      '--mu <mu>',
      `the step size is the learning rate / mu (default ${DOGE_DEFAULTS.mu})`,
      positiveNumber,
    );
  }
  command
    .option(
      '--probe-samples <n>',
      'samples of each domain measured per step (default 2)',
      integer(1),
    )
    .option(
      '--eval-batches <n>',
      'validation batches per evaluation (default: the whole split)',
      integer(1),
    )
    .option('--resume', 'keep finished runs of --out and continue an interrupted one')
    .addHelpText(
      'after',
      `\nExamples:\n  lrw ${kind} --data data/default --steps 2000 --out runs/${kind}\n  lrw train --data data/default --method linupper --domain-weights runs/${kind}/domain-weights.json\n`,
    )
    .action(async (opts: DomainWeightsOptions) => {
      const { file, result } = await computeDomainWeights(kind, opts, io);
      io.stdout(formatDomainWeights(result));
      io.stdout(`weights: ${file}\n`);
    });
}

export function registerDomainWeights(program: Command, io: CliIo): void {
  register(program, io, 'doremi');
  register(program, io, 'doge');
}

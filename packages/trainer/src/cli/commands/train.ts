import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openDataset } from '@lrw/data';
import type { Command } from 'commander';
import { CheckpointStore } from '../../checkpoint-store.js';
import { METHODS, type Method, methodsHelp, type TrainerConfig } from '../../config.js';
import { checkWeightsFitDomains } from '../../domain-weights-file.js';
import { runPaths } from '../../run-directory.js';
import { describeHolder, holderAlive, readRunLock } from '../../run-lock.js';
import { trainRun } from '../../run-training.js';
import { TrainerError } from '../../trainer-error.js';
import {
  DISTRIBUTED_MODES,
  type DistributedMode,
  startDistributed,
  stoppedTogether,
} from '../distributed.js';
import { CliError, type CliIo, progressLine } from '../io.js';
import { choice, integer } from '../options.js';
import { addTrainFlags, buildConfig, type TrainFlags } from '../run-config.js';
import { modelNotes, uniformFlagsNote } from '../run-notes.js';
import { stopOnSignals } from '../stop-signals.js';
import { formatDomainResults } from '../tables.js';

export interface TrainCommandOptions extends TrainFlags {
  data: string;
  out?: string;
  method?: Method;
  label?: string;
  resume?: boolean;
  resumeOrStart?: boolean;
  evalBatches?: number;
  distributed?: DistributedMode;
  mpiTimeout?: number;
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

/** Whether `dir` holds a run (a checkpoint or metrics). */
function isRunDirectory(dir: string): boolean {
  const paths = runPaths(dir);
  return existsSync(paths.checkpoints) || existsSync(paths.metrics);
}

/**
 * The run directory: --out; else, for a run's own config.json (in a folder that holds a run),
 * that folder, wherever it has moved; else the config file's outputDir; else runs/run.
 */
function runDirectory(opts: TrainCommandOptions): string {
  if (opts.out !== undefined) return resolve(opts.out);
  if (opts.config !== undefined) {
    const file = resolve(opts.config);
    if (basename(file) === 'config.json' && isRunDirectory(dirname(file))) return dirname(file);
    try {
      const outputDir = (JSON.parse(readFileSync(file, 'utf8')) as { outputDir?: unknown })
        .outputDir;
      if (typeof outputDir === 'string' && outputDir !== '') return resolve(outputDir);
    } catch {
      // buildConfig reports an unreadable config file, with its name
    }
  }
  return resolve('runs/run');
}

/** Refuses a second writer before any work: the lock itself is taken when the run opens. */
function checkNotRunning(outDir: string): void {
  const holder = readRunLock(outDir);
  if (holder === undefined || holderAlive(holder) === false) return;
  throw new CliError(
    `${outDir} is in use by ${describeHolder(holder)}.`,
    `wait for that run to end or stop it (Ctrl-C there${holder.host ? ` on ${holder.host}` : ''}); to train something else at the same time, choose another --out.`,
    1,
  );
}

/** A stopped run's message as the CLI says it: where the checkpoint is and the command to continue. */
function cliStopError(
  error: TrainerError,
  outDir: string,
  config: TrainerConfig,
  exitCode: number | undefined,
  worldSize = 1,
): CliError | TrainerError {
  const message = error.message.split('\nHINT: ')[0]!;
  const launch = worldSize > 1 ? `mpirun -np ${worldSize} ` : '';
  const resume = `${launch}lrw train --out ${outDir} --resume`;
  if (error.code === 'interrupted') {
    return new CliError(
      message,
      message.startsWith('Stopped before training started')
        ? 'run the same command again.'
        : // the library's hint says whether a checkpoint exists to continue from
          error.hint === 'start the run again.'
          ? 'start it again.'
          : `continue it with: ${resume}`,
      exitCode ?? 130,
    );
  }
  if (error.code === 'too-many-bad-steps' || error.code === 'non-finite-model') {
    const peak = config.lr.kind === 'constant' ? config.lr.lr : config.lr.peakLr;
    return new CliError(
      message,
      `resume from the latest checkpoint with a lower learning rate, e.g. ${resume} --lr ${peak / 2} (half of ${peak}), or a longer --lr-warmup; check the data for empty or corrupt samples${error.code === 'too-many-bad-steps' ? `; or allow more than ${config.guard.maxConsecutiveBad} skips in a row with --guard-max-bad` : ''}.`,
      1,
    );
  }
  return error;
}

export function registerTrain(program: Command, io: CliIo): void {
  const command = program
    .command('train')
    .summary('train one model with a weighting method (config file and/or flags)')
    .description(
      'Trains a GPT on a prepared dataset with per-sample loss reweighting: per-sample losses -> weights of the method -> sum_i w_i l_i -> AdamW. Writes config.json, metrics.jsonl, checkpoints/, history.jsonl and results.json into --out, which it locks while it runs. Flags override the fields of --config; see @lrw/trainer README "Config" for every field. Every shard is verified before the first step. Ctrl-C (or SIGTERM) finishes the step, writes a checkpoint and exits; a second Ctrl-C exits at once. On --resume the run\'s own config.json applies, and only --lr, --end-lr, --lr-warmup, --r, --guard-*, --steps, --eval-interval, --checkpoint-interval and --backend may change (recorded in history.jsonl).',
    )
    .option('-d, --data <dir>', 'prepared dataset (lrw prepare --out)', 'data/default')
    .option(
      '-o, --out <dir>',
      "run directory (default: the folder of a run's own --config config.json, else its outputDir, else runs/run)",
    )
    .option('--method <name>', `weighting method: ${methodsHelp()}`, choice(METHODS));
  addTrainFlags(command)
    .option(
      '--domain-reweighting <kind>',
      'online domain reweighting: doremi (needs --reference) or doge; the mixture changes every step and domain-weights.json is written',
      choice(['doremi', 'doge'] as const),
    )
    .option(
      '--reference <dir>',
      "DoReMi's reference run: a finished run on this data with the default mixture",
    )
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
      'continue the run in --out from its latest checkpoint (bit-identical to an uninterrupted run); an error when it has none',
    )
    .option(
      '--distributed <mode>',
      'data parallelism over MPI, one process per rank: auto (when started by mpirun, mpiexec or srun with several ranks), mpi (always), none; --batch-size is per rank (see README "Scaling out")',
      choice(DISTRIBUTED_MODES),
      'auto',
    )
    .option(
      '--mpi-timeout <seconds>',
      'with several ranks: end the job when a rank waits longer than this for the others (a stuck rank; longer than the slowest step and evaluation; default: no limit)',
      integer(1),
    )
    .option(
      '--resume-or-start',
      'resume when --out has a checkpoint, else start the run there (for scripts that restart a run until it finishes)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  lrw train --data data/default --method linupper --steps 2000 --out runs/linupper\n  lrw train --config runs/linupper/config.json --resume\n  lrw train --out runs/linupper --resume --lr 2.5e-4     (after the step guard stopped it)\n  mpirun -np 4 lrw train --data data/default --batch-size 8 --out runs/dp4   (4 ranks, global batch 32)\n',
    )
    .action(async (opts: TrainCommandOptions) => {
      const resume = opts.resume === true || opts.resumeOrStart === true;
      const outDir = runDirectory(opts);
      if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
        throw new CliError(
          `--out ${outDir} is a file, not a folder.`,
          'choose a folder for the run (new or existing).',
        );
      }
      const paths = runPaths(outDir);
      // on resume the run's own config is the base; flags change what they name
      const ownConfig = resume && opts.config === undefined && existsSync(paths.config);
      const flags = ownConfig ? { ...opts, config: paths.config } : opts;
      const notes: string[] = [];
      const parsed = await buildConfig(flags, opts.method, notes);
      const config = {
        ...parsed,
        outputDir: outDir,
        ...(opts.evalBatches !== undefined ? { evalBatches: opts.evalBatches } : {}),
      };
      const uniform = uniformFlagsNote(config.method, opts);
      if (uniform) notes.push(uniform);
      const data = resolve(opts.data);
      requireDataset(data);
      checkNotRunning(outDir);
      if (!resume && existsSync(paths.metrics)) {
        throw new CliError(
          `${outDir} already holds a run (metrics.jsonl).`,
          'add --resume to continue it, or choose another --out.',
        );
      }
      if (opts.resume && !opts.resumeOrStart) {
        const latest = existsSync(paths.checkpoints)
          ? await new CheckpointStore(paths.checkpoints).latest()
          : undefined;
        if (latest === undefined) {
          throw new CliError(
            `--resume: ${outDir} has no checkpoint to resume from${existsSync(paths.metrics) ? ' (the run stopped before its first checkpoint)' : ''}.`,
            'start the run without --resume, or with --resume-or-start (resume when there is a checkpoint, else start); check --out.',
          );
        }
      }
      const dataset = await openDataset(data);
      if (typeof opts.domainWeights === 'string' && typeof config.domainWeights === 'object') {
        checkWeightsFitDomains(opts.domainWeights, config.domainWeights, dataset.domains);
      }
      const dist = startDistributed(opts.distributed ?? 'auto', io, process.env, {
        timeoutSeconds: opts.mpiTimeout ?? 0,
      });
      notes.push(
        ...modelNotes(config, {
          vocabSize: dataset.vocabSize,
          tokenizer: dataset.index.tokenizer.name,
        }),
      );
      if (dist.threadsNote && dist.rank === 0) notes.push(dist.threadsNote);
      if (dist.worldSize > 1 && dist.rank === 0) {
        notes.push(
          `${dist.worldSize} ranks of batch ${config.batchSize}: a global batch of ${dist.worldSize * config.batchSize} samples per micro-batch.`,
        );
      }
      if (dist.rank === 0) for (const note of notes) io.stderr(`lrw train: note: ${note}\n`);
      const progress =
        dist.rank === 0 ? progressLine(io, config.steps, opts.label ?? config.method) : false;
      const stop = stopOnSignals(io, {
        // mpirun forwards SIGUSR2 to every rank at once (SIGINT and SIGTERM only after its
        // kill timeout, as SIGTERM): the way to stop all ranks with a checkpoint without delay
        ...(dist.worldSize > 1 ? { signals: ['SIGINT', 'SIGTERM', 'SIGUSR2'] as const } : {}),
        onFirst: (signal) => {
          if (progress === false) return;
          progress.log(
            `${signal}: stopping after the current step and writing a checkpoint (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit at once)`,
          );
        },
      });
      try {
        const { results } = await trainRun(config, {
          dataDir: data,
          outDir,
          resume,
          progress,
          signal: stop.signal,
          ...(dist.collective ? { collective: dist.collective } : {}),
          ...(opts.label !== undefined ? { label: opts.label } : {}),
        });
        dist.finish();
        if (dist.rank !== 0) return;
        io.stdout(formatDomainResults(results));
        io.stdout(`run directory: ${outDir} (report: lrw report ${outDir})\n`);
      } catch (error) {
        const shown = TrainerError.isInstance(error)
          ? cliStopError(error, outDir, config, stop.exitCode, dist.worldSize)
          : error;
        if (stoppedTogether(error)) {
          dist.finish();
          // rank 0 says where the checkpoint is; the others end quietly
          if (dist.rank !== 0) return;
        } else {
          dist.fail(shown); // several ranks: ends the job here, naming this rank
        }
        throw shown;
      } finally {
        stop.dispose();
      }
    });
}

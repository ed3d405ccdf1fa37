import { resolve } from 'node:path';
import type { Command } from 'commander';
import { writeBytesAtomic } from '../../atomic-write.js';
import { TRAINER_BACKENDS, type TrainerBackend } from '../../config.js';
import { readRunResults, writeRunResults } from '../../run-results.js';
import { evaluateRun, lmEvalResults, taskDataFiles } from '../evaluate-run.js';
import type { CliIo } from '../io.js';
import { choice } from '../options.js';
import { textTable } from '../tables.js';
import { addTaskFlags, type TaskFlags } from '../task-flags.js';
import { requireDataset } from './train.js';

export interface EvalCommandOptions extends TaskFlags {
  data: string;
  out?: string;
  backend?: TrainerBackend;
}

export function registerEval(program: Command, io: CliIo): void {
  const command = program
    .command('eval')
    .summary('per-domain perplexity and few-shot tasks of a run (lm-eval-style JSON)')
    .description(
      "Loads the run's latest checkpoint, measures validation perplexity per domain on the prepared dataset and, with --tasks, runs lm-evaluation-harness compatible tasks (@lrw/eval: multiple choice, and perplexity tasks such as wikitext), prompts cut from the left to the model's context as lm-eval does. Writes an lm-eval-style results JSON; task accuracies are also stored in the run's results.json for the report's Table 2.",
    )
    .argument('<run>', 'run directory (the --out of lrw train)')
    .option('-d, --data <dir>', 'prepared dataset the run was trained on', 'data/default')
    .option('-o, --out <file>', 'results JSON (default <run>/eval-results.json)');
  addTaskFlags(command, 'validation batches for perplexity')
    .option(
      '--backend <name>',
      `tensor backend of the model: ${TRAINER_BACKENDS.join(', ')} (default: the one the run trained on)`,
      choice(TRAINER_BACKENDS),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  lrw eval runs/linupper --data data/default\n  lrw eval runs/linupper --tasks piqa,sciq --task-data ../shared/data/eval --num-fewshot 5\n',
    )
    .action(async (run: string, opts: EvalCommandOptions) => {
      const runDir = resolve(run);
      const tasks = opts.tasks ?? [];
      const dataFiles = tasks.length ? taskDataFiles(tasks, opts.taskData, opts.taskFile) : {};
      requireDataset(resolve(opts.data));
      const ev = await evaluateRun(runDir, {
        data: opts.data,
        tasks,
        dataFiles,
        ...(opts.numFewshot !== undefined ? { numFewshot: opts.numFewshot } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.evalBatches !== undefined ? { evalBatches: opts.evalBatches } : {}),
        ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
        io,
      });
      const out = resolve(opts.out ?? `${runDir}/eval-results.json`);
      await writeBytesAtomic(out, `${JSON.stringify(lmEvalResults(runDir, ev), null, 2)}\n`);
      if (ev.accuracy) {
        const stored = readRunResults(runDir);
        if (stored) await writeRunResults(runDir, { ...stored, tasks: ev.accuracy });
      }
      const rows = Object.entries(ev.perplexity.domains).map(([d, v]) => [
        d,
        v.tokens.toLocaleString('en-US'),
        v.loss.toFixed(4),
        v.perplexity.toFixed(2),
      ]);
      const o = ev.perplexity.overall;
      rows.push([
        'all',
        o.tokens.toLocaleString('en-US'),
        o.loss.toFixed(4),
        o.perplexity.toFixed(2),
      ]);
      io.stdout(
        `step ${ev.step}\n${textTable(['domain', 'tokens', 'loss', 'perplexity'], rows)}\n`,
      );
      if (ev.tasks) {
        const results = Object.entries(ev.tasks.results);
        const choice = results.filter(([, r]) => !('word_perplexity,none' in r));
        const rolling = results.filter(([, r]) => 'word_perplexity,none' in r);
        const taskRows = choice.map(([t, r]) => [
          t,
          fmtAcc(r['acc,none']),
          fmtAcc(r['acc_stderr,none']),
          fmtAcc(r['acc_norm,none']),
        ]);
        if (taskRows.length)
          io.stdout(`\n${textTable(['task', 'acc', 'stderr', 'acc_norm'], taskRows)}\n`);
        // loglikelihood_rolling tasks (wikitext): lm-eval's perplexities
        const pplRows = rolling.map(([t, r]) => [
          t,
          fmtAcc(r['word_perplexity,none']),
          fmtAcc(r['byte_perplexity,none']),
          fmtAcc(r['bits_per_byte,none']),
        ]);
        if (pplRows.length) {
          const head = ['task', 'word_perplexity', 'byte_perplexity', 'bits_per_byte'];
          io.stdout(`\n${textTable(head, pplRows)}\n`);
        }
      }
      io.stdout(`results: ${out}\n`);
    });
}

function fmtAcc(v: unknown): string {
  return typeof v === 'number' ? v.toFixed(4) : String(v ?? '–');
}

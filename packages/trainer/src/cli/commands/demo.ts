import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type Method, TRAINER_BACKENDS, type TrainerBackend } from '../../config.js';
import type { CliIo } from '../io.js';
import { byteSize, choice, integer, positiveNumber } from '../options.js';
import { formatCompareResults, runCompare } from './compare.js';
import { runPrepare } from './prepare.js';

/**
 * The demo's budget, chosen by measuring on the shared 2-core development machine (README, CLI
 * section): prepare + two runs side by side + evaluation took 5.8 min there at load average 4-5.
 * The byte tokenizer keeps the model's head small (257 ids instead of GPT-2's 50257), so the
 * minutes go into the transformer; 8 validation batches give every domain a few rows.
 */
export const DEMO_DEFAULTS = {
  maxBytesPerDomain: 256 * 1024,
  tokenizer: 'byte' as 'gpt2' | 'byte',
  model: 'nano',
  steps: 500,
  seqLen: 64,
  batchSize: 8,
  lr: 2e-3,
  evalInterval: 50,
  evalBatches: 8,
  seed: 0,
};

export interface DemoOptions {
  out: string;
  maxBytesPerDomain: number;
  tokenizer: 'gpt2' | 'byte';
  model: string;
  steps: number;
  seqLen: number;
  batchSize: number;
  lr: number;
  evalInterval: number;
  evalBatches: number;
  seed: number;
  jobs: number;
  methods?: Method[];
  backend?: TrainerBackend;
}

export async function runDemo(opts: DemoOptions, io: CliIo) {
  const started = performance.now();
  const out = resolve(opts.out);
  const data = resolve(out, 'data');
  io.stderr(`lrw demo: preparing the five default-corpus domains into ${data}\n`);
  await runPrepare(
    {
      out: data,
      tokenizer: opts.tokenizer,
      maxBytesPerDomain: opts.maxBytesPerDomain,
      seed: 0,
      validationFraction: 0.05,
    },
    io,
  );
  const results = await runCompare(
    {
      data,
      out,
      methods: opts.methods ?? ['uniform', 'linupper'],
      seeds: [opts.seed],
      model: opts.model,
      steps: opts.steps,
      seqLen: opts.seqLen,
      batchSize: opts.batchSize,
      lr: opts.lr,
      evalInterval: opts.evalInterval,
      checkpointInterval: 0,
      evalBatches: opts.evalBatches,
      resume: true,
      jobs: opts.jobs,
      ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
      title: 'lrw demo: uniform vs linupper on the embedded five-domain corpus',
    },
    io,
  );
  const seconds = (performance.now() - started) / 1000;
  return { results, seconds, out };
}

export function registerDemo(program: Command, io: CliIo): void {
  const d = DEMO_DEFAULTS;
  program
    .command('demo')
    .summary('uniform vs linupper on the embedded corpus, with report (~1-3 min on 2 cores)')
    .description(
      'Prepares the five npm-packaged default-corpus domains, trains a CPU-sized GPT with uniform weights and with LinUpper under the same seed and budget, evaluates per-domain validation perplexity, and writes report.html and results.json into --out. Re-running keeps finished runs.',
    )
    .option('-o, --out <dir>', 'output folder', 'lrw-demo')
    .option('--max-bytes-per-domain <size>', 'text per domain', byteSize, d.maxBytesPerDomain)
    .option(
      '-t, --tokenizer <name>',
      'byte or gpt2',
      choice(['gpt2', 'byte'] as const),
      d.tokenizer,
    )
    .option('-m, --model <name>', 'model preset', d.model)
    .option('--steps <n>', 'optimizer steps per run', integer(1), d.steps)
    .option('--seq-len <n>', 'tokens per sample', integer(1), d.seqLen)
    .option('--batch-size <n>', 'samples per step', integer(1), d.batchSize)
    .option('--lr <peak>', 'peak learning rate', positiveNumber, d.lr)
    .option('--eval-interval <n>', 'evaluate every n steps', integer(0), d.evalInterval)
    .option('--eval-batches <n>', 'validation batches per evaluation', integer(1), d.evalBatches)
    .option('--seed <n>', 'seed of both runs', integer(0), d.seed)
    .option(
      '-j, --jobs <n>',
      'runs trained side by side (default: 2 when there are 2 cores)',
      integer(1),
      Math.min(2, availableParallelism()),
    )
    .option(
      '--backend <name>',
      `tensor backend: ${TRAINER_BACKENDS.join(', ')} (default cpu; webgpu without a GPU runs on a software adapter, far slower than cpu)`,
      choice(TRAINER_BACKENDS),
    )
    .addHelpText('after', '\nExample:\n  lrw demo --out lrw-demo\n')
    .action(async (opts: DemoOptions) => {
      const { results, seconds, out } = await runDemo(opts, io);
      io.stdout(formatCompareResults(results));
      io.stdout(
        `\nlrw demo finished in ${(seconds / 60).toFixed(1)} min.\nreport:  ${results.report}\nresults: ${resolve(out, 'results.json')}\n`,
      );
    });
}

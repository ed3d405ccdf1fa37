import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomicSync } from '@lrw/atomic-file';
import {
  DEFAULT_CONFIG,
  REGRESSION_SETUPS,
  type RegressionConfig,
  runRegressionExperiment,
} from './experiment/regression.js';
import { formatSummary } from './experiment/summary-table.js';
import { regressionSvg } from './experiment/svg-plot.js';

const HELP = `lrw-theory: experiments of @lrw/theory

Usage:
  lrw-theory regression --out DIR [options]

Linear regression with outliers: uniform, linupper, quadratic, extremes and dro-kl weights,
at a shared learning rate and at DRO-KL's largest stable one, over several seeds. Writes
DIR/regression.json (test MSE vs step, per seed, and the summary) and DIR/regression.svg,
and prints the summary table.

Options:
  --out DIR               output folder (created if missing; required)
  --setup NAME            appendix-b (default: the paper's Appendix B, outlier targets N(0, 1)
                          and a bias term) or scaled-targets (outlier targets 3 N(0, 1), no bias)
  --seeds N               number of seeds 0..N-1 (default ${DEFAULT_CONFIG.seeds.length})
  --steps N               SGD steps (default ${DEFAULT_CONFIG.steps})
  --batch N               minibatch size (default ${DEFAULT_CONFIG.batchSize})
  --eval-every N          evaluate the test MSE every N steps (default ${DEFAULT_CONFIG.evalEvery})
  --outlier-fraction F    fraction of outliers in the training set (default ${DEFAULT_CONFIG.data.outlierFraction})
  --outlier-scale S       std of the outliers' inputs (default ${DEFAULT_CONFIG.data.outlierScale})
  --lr-scale S            shared learning rate = S / lambda_max(X^T X / n) (default ${DEFAULT_CONFIG.lrScale})
  --target-ratio F        target test MSE = F * initial test MSE (default ${DEFAULT_CONFIG.targetRatio})
  -h, --help              show this help
`;

/** A usage error: main() prints it and returns exit code 2. */
class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be an integer >= 1, got '${value}'`);
  return n;
}

function fraction(
  name: string,
  value: string | undefined,
  fallback: number,
  maxExclusive: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= 0 && n < maxExclusive)) {
    fail(`--${name} must be a number in [0, ${maxExclusive}), got '${value}'`);
  }
  return n;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) fail(`--${name} must be a number > 0, got '${value}'`);
  return n;
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/**
 * The `lrw-theory` command. Returns the exit code (0 ok, 2 usage error) instead of exiting,
 * so that it can be tested in-process.
 */
export function main(argv: readonly string[], io: CliIo = processIo): number {
  try {
    return run(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`lrw-theory: ${e.message}\nRun 'lrw-theory --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
}

function run(argv: readonly string[], io: CliIo): number {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        setup: { type: 'string' },
        seeds: { type: 'string' },
        steps: { type: 'string' },
        batch: { type: 'string' },
        'eval-every': { type: 'string' },
        'outlier-fraction': { type: 'string' },
        'outlier-scale': { type: 'string' },
        'lr-scale': { type: 'string' },
        'target-ratio': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    io.stderr(HELP);
    return 2;
  }
  if (positionals[0] !== 'regression' || positionals.length > 1) {
    fail(`unknown command '${positionals.join(' ')}'; the only command is 'regression'`);
  }
  if (values.out === undefined)
    fail("'regression' needs --out DIR (where to write regression.json and regression.svg)");
  const setupName = values.setup ?? 'appendix-b';
  const base = REGRESSION_SETUPS[setupName];
  if (base === undefined) {
    fail(`--setup must be one of ${Object.keys(REGRESSION_SETUPS).join(', ')}, got '${setupName}'`);
  }
  const seeds = positiveInt('seeds', values.seeds, base.seeds.length);
  const config: RegressionConfig = {
    ...base,
    seeds: Array.from({ length: seeds }, (_, i) => i),
    steps: positiveInt('steps', values.steps, DEFAULT_CONFIG.steps),
    batchSize: positiveInt('batch', values.batch, DEFAULT_CONFIG.batchSize),
    evalEvery: positiveInt('eval-every', values['eval-every'], DEFAULT_CONFIG.evalEvery),
    lrScale: positive('lr-scale', values['lr-scale'], DEFAULT_CONFIG.lrScale),
    targetRatio: positive('target-ratio', values['target-ratio'], DEFAULT_CONFIG.targetRatio),
    data: {
      ...base.data,
      outlierFraction: fraction(
        'outlier-fraction',
        values['outlier-fraction'],
        DEFAULT_CONFIG.data.outlierFraction,
        1,
      ),
      outlierScale: positive(
        'outlier-scale',
        values['outlier-scale'],
        DEFAULT_CONFIG.data.outlierScale,
      ),
    },
  };
  if (config.batchSize > config.data.cleanPoints) {
    fail(
      `--batch ${config.batchSize} is larger than the training set; use at most ${config.data.cleanPoints}`,
    );
  }
  const dir = resolve(values.out);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const result = runRegressionExperiment(config);
  writeFileAtomicSync(join(dir, 'regression.json'), `${JSON.stringify(result, null, 1)}\n`);
  writeFileAtomicSync(join(dir, 'regression.svg'), regressionSvg(result));
  io.stdout(formatSummary(result));
  io.stdout(
    `\nwrote ${join(dir, 'regression.json')} and ${join(dir, 'regression.svg')} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return 0;
}

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  capFreeFormula,
  cappedFormula,
  classicalConvexBound,
  DEFAULT_REGRESSION_CONFIG,
  formatRegressionSummary,
  nonConvexFormula,
  optimalKlWeights,
  type RegressionConfig,
  regressionSvg,
  runRegressionExperiment,
} from '@lrw/theory';
import { type Command, InvalidArgumentError } from 'commander';
import { writeBytesAtomic } from '../../atomic-write.js';
import { CliError, type CliIo } from '../io.js';
import { finiteNumber, fraction, integer, positiveNumber } from '../options.js';
import { textTable } from '../tables.js';

const g = (x: number) => (Number.isFinite(x) ? x.toPrecision(6) : String(x));

/** --cap: a number >= 1, or Infinity for the plain softmax. */
function capValue(value: string): number {
  const c = value === 'Infinity' || value === 'inf' ? Number.POSITIVE_INFINITY : Number(value);
  if (!(c >= 1)) {
    throw new InvalidArgumentError(
      'Use a number >= 1 (the weights sum to 1, so the largest is at least 1/n), e.g. 2 (the paper), or Infinity.',
    );
  }
  return c;
}

function convexCommand(io: CliIo) {
  return (o: {
    L: number;
    eta: number;
    distance0: number;
    steps: number;
    meanRho: number;
    c: number;
  }) => {
    const base = {
      distance0: o.distance0,
      eta: o.eta,
      L: o.L,
      steps: o.steps,
      sumRho: o.meanRho * o.steps,
    };
    const capFree = capFreeFormula(base);
    const capped = cappedFormula({ ...base, c: o.c });
    const classical = classicalConvexBound(o.distance0, o.eta, o.steps);
    const rows = [
      [
        'Theorem 1/3, cap-free (any weights)',
        `eta*L = ${g(o.eta * o.L)} < 2`,
        o.eta * o.L < 2 ? 'holds' : `fails: use eta < ${g(2 / o.L)}`,
        g(capFree.initial),
        g(capFree.reweighting),
        g(capFree.bound),
      ],
      [
        `Theorem 1/3, capped (w_i <= ${o.c}/n)`,
        `c*eta*L = ${g(o.c * o.eta * o.L)} < 1`,
        o.c * o.eta * o.L < 1 ? 'holds' : `fails: use eta < ${g(1 / (o.c * o.L))}`,
        g(capped.initial),
        g(capped.reweighting),
        g(capped.bound),
      ],
      ['classical GD (uniform weights)', '', '', g(classical), '0', g(classical)],
    ];
    io.stdout(
      `Bound on (1/T) sum_t (F(x_t) - F*) for T = ${o.steps}, ||x0 - x*|| = ${o.distance0}, mean rho = ${o.meanRho}:\n${textTable(['result', 'condition', '', 'initial', 'reweighting', 'bound'], rows)}\n`,
    );
  };
}

export function registerBounds(program: Command, io: CliIo): void {
  const bounds = program
    .command('bounds')
    .summary('convergence-bound calculators and the regression experiment (@lrw/theory)')
    .description(
      'The theory of @lrw/theory: bound calculators for the convex results (Theorem 1, full batch; Theorem 3, minibatch SGD and heavy ball) and the non-convex one (alignment form; Theorem 4 in @lrw/theory), the optimal KL-regularised weights under the 2/n cap (Proposition 1), and the linear-regression-with-outliers experiment (Appendix B).',
    );
  bounds
    .command('convex')
    .description(
      'Convex, L-smooth, interpolating losses: the cap-free and capped bounds of weighted (S)GD against the classical bound, from the averaged reweighting term rho (mean over steps of sum_i (w_i - 1/n) gap_i).',
    )
    .requiredOption('--L <value>', 'smoothness constant L', positiveNumber)
    .requiredOption('--eta <value>', 'step size', positiveNumber)
    .requiredOption('--distance0 <value>', '||x0 - x*||', positiveNumber)
    .requiredOption('--steps <n>', 'number of steps T', integer(1))
    .option(
      '--mean-rho <value>',
      'mean reweighting term over the steps (>= 0 when weights favour high losses)',
      finiteNumber,
      0,
    )
    .option('--c <value>', 'weight cap constant (w_i <= c/n)', positiveNumber, 2)
    .addHelpText(
      'after',
      '\nExample:\n  lrw bounds convex --L 1 --eta 0.4 --distance0 2 --steps 100 --mean-rho 0.01\n',
    )
    .action(convexCommand(io));
  bounds
    .command('nonconvex')
    .description(
      'Non-convex weighted SGD under Assumption 4, alignment form (full batch: our corollary): bound on the mean squared gradient norm.',
    )
    .requiredOption('--L <value>', 'smoothness constant L', positiveNumber)
    .requiredOption('--eta <value>', 'step size (< 2/L)', positiveNumber)
    .requiredOption('--initial-gap <value>', 'F(x0) - F*', finiteNumber)
    .requiredOption('--sigma <value>', 'gradient-noise constant of Assumption 4', finiteNumber)
    .requiredOption('--steps <n>', 'number of steps T', integer(1))
    .option('--mean-rho <value>', 'mean alignment term rho^nc over the steps', finiteNumber, 0)
    .option(
      '--mean-noise <value>',
      'mean of min(1, (tau_t + sqrt(v_b))^2) over the steps',
      finiteNumber,
      1,
    )
    .action(
      (o: {
        L: number;
        eta: number;
        initialGap: number;
        sigma: number;
        steps: number;
        meanRho: number;
        meanNoise: number;
      }) => {
        if (o.eta * o.L >= 2)
          throw new CliError(
            `eta*L = ${g(o.eta * o.L)} >= 2: the bound needs eta < 2/L.`,
            `use --eta below ${g(2 / o.L)}.`,
          );
        const r = nonConvexFormula({ ...o, sumRho: o.meanRho * o.steps });
        io.stdout(
          `${textTable(
            ['term', 'value'],
            [
              ['initial', g(r.initial)],
              ['reweighting', g(r.reweighting)],
              ['noise', g(r.noise)],
              ['bound on (1/T) sum E||grad F||^2', g(r.bound)],
            ],
          )}\n`,
        );
      },
    );
  bounds
    .command('kl')
    .description(
      'Proposition 1: the weights maximising sum_i w_i s_i - r KL(w || uniform) under the cap w_i <= c/n (the paper: c = 2), and the optimal value; with --cap Infinity the plain softmax, value r log mean exp(s/r).',
    )
    .requiredOption('--scores <list>', 'scores s_i, comma-separated (e.g. normalised losses)')
    .requiredOption('--r <value>', 'temperature r > 0', positiveNumber)
    .option('--cap <c>', 'weight cap c >= 1 (w_i <= c/n), or Infinity', capValue, 2)
    .action((o: { scores: string; r: number; cap: number }) => {
      const scores = o.scores.split(',').map((s) => Number(s.trim()));
      if (scores.some((s) => !Number.isFinite(s)) || scores.length === 0) {
        throw new CliError(
          `--scores ${o.scores}: not a list of numbers.`,
          'write it like --scores 0.1,-0.5,1',
        );
      }
      const w = optimalKlWeights(scores, o.r, { cap: o.cap });
      io.stdout(
        `${textTable(
          ['i', 'score', 'weight'],
          scores.map((s, i) => [String(i), String(s), g(w.weights[i]!)]),
        )}\noptimal value ${g(w.value)}; ${w.atCap} weight(s) at the cap ${o.cap}/n${w.atCap === 0 ? ' (the plain softmax is optimal)' : ''}\n`,
      );
    });
  bounds
    .command('regression')
    .description(
      "Linear regression with outliers: uniform, linupper, quadratic, extremes and dro-kl weights at a shared learning rate and at DRO-KL's largest stable one, over several seeds. Writes regression.json and regression.svg and prints the summary.",
    )
    .option('-o, --out <dir>', 'output folder', 'runs/regression')
    .option('--seeds <n>', 'seeds 0..n-1', integer(1), DEFAULT_REGRESSION_CONFIG.seeds.length)
    .option('--steps <n>', 'SGD steps', integer(1), DEFAULT_REGRESSION_CONFIG.steps)
    .option('--batch <n>', 'minibatch size', integer(1), DEFAULT_REGRESSION_CONFIG.batchSize)
    .option(
      '--outlier-fraction <f>',
      'share of outliers in the training set',
      fraction,
      DEFAULT_REGRESSION_CONFIG.data.outlierFraction,
    )
    .option(
      '--lr-scale <s>',
      'shared learning rate = s / lambda_max',
      positiveNumber,
      DEFAULT_REGRESSION_CONFIG.lrScale,
    )
    .action(
      async (o: {
        out: string;
        seeds: number;
        steps: number;
        batch: number;
        outlierFraction: number;
        lrScale: number;
      }) => {
        const config: RegressionConfig = {
          ...DEFAULT_REGRESSION_CONFIG,
          seeds: Array.from({ length: o.seeds }, (_, i) => i),
          steps: o.steps,
          batchSize: o.batch,
          lrScale: o.lrScale,
          data: { ...DEFAULT_REGRESSION_CONFIG.data, outlierFraction: o.outlierFraction },
        };
        const dir = resolve(o.out);
        mkdirSync(dir, { recursive: true });
        const result = runRegressionExperiment(config);
        await writeBytesAtomic(join(dir, 'regression.json'), `${JSON.stringify(result)}\n`);
        await writeBytesAtomic(join(dir, 'regression.svg'), regressionSvg(result));
        io.stdout(
          `${formatRegressionSummary(result)}\nwrote ${join(dir, 'regression.json')} and ${join(dir, 'regression.svg')}\n`,
        );
      },
    );
}

import { computeWeights, type StrategyName } from '@lrw/strategies';
import { SeededRandom } from '../random.js';
import {
  DEFAULT_DATA,
  largestCurvature,
  makeRegressionData,
  parameterCount,
  predict,
  type RegressionData,
  type RegressionDataOptions,
  SCALED_TARGETS_DATA,
  testMse,
} from './regression-data.js';

/** A strategy of the comparison and its temperature r. */
export interface StrategySetting {
  readonly strategy: StrategyName;
  readonly r: number;
}

/**
 * The strategies compared. Temperatures are the paper's GPT-2 values (spec reweighting.md
 * section 7: r = 0.4 for LinUpper and Extremes, 1.0 for Quadratic); DRO-KL's r = 1 is ours.
 */
export const DEFAULT_STRATEGIES: readonly StrategySetting[] = [
  { strategy: 'uniform', r: 1 },
  { strategy: 'linupper', r: 0.4 },
  { strategy: 'quadratic', r: 1 },
  { strategy: 'extremes', r: 0.4 },
  { strategy: 'dro-kl', r: 1 },
];

export interface RegressionConfig {
  /** A name for the data setup, e.g. 'appendix-b' (the default) or 'scaled-targets'. */
  readonly setup: string;
  readonly data: RegressionDataOptions;
  readonly seeds: readonly number[];
  readonly steps: number;
  readonly batchSize: number;
  readonly evalEvery: number;
  readonly strategies: readonly StrategySetting[];
  /** The shared learning rate is lrScale / lambda_max((1/n) X^T X) (max over seeds). */
  readonly lrScale: number;
  /** Target test MSE = targetRatio * the initial test MSE (theta = 0) of each seed. */
  readonly targetRatio: number;
}

/** The paper's Appendix B setup (outlier targets from N(0, 1), a bias term). */
export const DEFAULT_CONFIG: RegressionConfig = {
  setup: 'appendix-b',
  data: DEFAULT_DATA,
  seeds: [0, 1, 2, 3, 4],
  steps: 1000,
  batchSize: 32,
  evalEvery: 10,
  strategies: DEFAULT_STRATEGIES,
  lrScale: 0.1,
  targetRatio: 0.5,
};

/**
 * Our earlier setup, kept as a named variant: outlier targets 3 N(0, 1), no bias term (in data
 * or model). Everything else as DEFAULT_CONFIG.
 */
export const SCALED_TARGETS_CONFIG: RegressionConfig = {
  ...DEFAULT_CONFIG,
  setup: 'scaled-targets',
  data: SCALED_TARGETS_DATA,
};

/** The named data setups of the experiment. */
export const REGRESSION_SETUPS: Readonly<Record<string, RegressionConfig>> = {
  'appendix-b': DEFAULT_CONFIG,
  'scaled-targets': SCALED_TARGETS_CONFIG,
};

/** The 2/b cap statistics of one run (over the steps it ran): b max_i w_i per step. */
export interface CapStats {
  readonly meanMaxTimesB: number;
  readonly maxMaxTimesB: number;
  /** Fraction of steps with b max_i w_i > 2 (Theorem 3's cap broken). */
  readonly aboveCap: number;
}

/** One training run: test MSE at steps 0, evalEvery, 2 evalEvery, ..., steps. */
export interface RegressionRun {
  readonly seed: number;
  /** null after divergence. */
  readonly mse: (number | null)[];
  readonly diverged: boolean;
  readonly finalMse: number | null;
  /** First evaluated step with test MSE <= target (first passage), or null. */
  readonly stepsToTarget: number | null;
  readonly cap: CapStats;
}

/**
 * A run is declared diverged (and stopped) when theta is not finite or the test MSE exceeds
 * this times the initial one (theta = 0) at an evaluation: an unstable step size grows the
 * error geometrically, so the threshold only decides when we notice.
 */
export const DIVERGENCE_FACTOR = 10;

/**
 * Weighted minibatch SGD on the per-sample squared loss l_i = (<x_i, w> + bias - y_i)^2 / 2
 * from w = 0 (bias = 0): each step draws b samples without replacement (the draws depend only
 * on the seed, so every strategy sees the same minibatches), weights them with
 * computeWeights(losses) and steps w -= lr * sum_i w_i grad l_i.
 */
export function trainRegression(
  data: RegressionData,
  setting: StrategySetting,
  lr: number,
  seed: number,
  config: Pick<RegressionConfig, 'steps' | 'batchSize' | 'evalEvery' | 'targetRatio'>,
): RegressionRun {
  const d = data.dim;
  const p = parameterCount(data);
  const n = data.y.length;
  const b = config.batchSize;
  const rng = new SeededRandom(0x5eed + seed);
  const w = new Float64Array(p);
  const grad = new Float64Array(p);
  let capSum = 0;
  let capMax = 0;
  let capAbove = 0;
  let ran = 0;
  const residuals = new Float64Array(b);
  const losses = new Float64Array(b);
  const initial = testMse(data, w);
  const target = config.targetRatio * initial;
  const mse: (number | null)[] = [initial];
  let stepsToTarget: number | null = initial <= target ? 0 : null;
  let diverged = false;
  for (let t = 1; t <= config.steps; t++) {
    const batch = rng.sampleWithoutReplacement(n, b);
    for (let j = 0; j < b; j++) {
      const i = batch[j];
      const r = predict(data, data.x, i, w) - data.y[i];
      residuals[j] = r;
      losses[j] = 0.5 * r * r;
    }
    const weights = computeWeights(losses, { strategy: setting.strategy, r: setting.r });
    let maxW = 0;
    for (let j = 0; j < b; j++) maxW = Math.max(maxW, weights[j]);
    capSum += b * maxW;
    capMax = Math.max(capMax, b * maxW);
    if (b * maxW > 2 * (1 + 1e-12)) capAbove++;
    ran++;
    grad.fill(0);
    for (let j = 0; j < b; j++) {
      const c = weights[j] * residuals[j];
      const i = batch[j];
      for (let k = 0; k < d; k++) grad[k] += c * data.x[i * d + k];
      if (data.fitBias) grad[d] += c;
    }
    let finite = true;
    for (let k = 0; k < p; k++) {
      w[k] -= lr * grad[k];
      if (!Number.isFinite(w[k])) finite = false;
    }
    if (t % config.evalEvery === 0 || !finite) {
      const m = finite ? testMse(data, w) : Number.POSITIVE_INFINITY;
      if (!(m <= DIVERGENCE_FACTOR * initial)) {
        diverged = true;
        break;
      }
      if (t % config.evalEvery === 0) {
        mse.push(m);
        if (stepsToTarget === null && m <= target) stepsToTarget = t;
      }
    }
  }
  const evals = Math.floor(config.steps / config.evalEvery) + 1;
  while (mse.length < evals) mse.push(null);
  return {
    seed,
    mse,
    diverged,
    finalMse: diverged ? null : (mse[mse.length - 1] ?? null),
    stepsToTarget,
    cap: {
      meanMaxTimesB: ran === 0 ? 0 : capSum / ran,
      maxMaxTimesB: capMax,
      aboveCap: ran === 0 ? 0 : capAbove / ran,
    },
  };
}

/** Mean and sample standard deviation (n - 1) of the values; null when there are none. */
export interface MeanStd {
  readonly mean: number | null;
  readonly std: number | null;
  readonly count: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: null, std: null, count: 0 };
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), count: n };
}

export interface StrategySummary {
  readonly strategy: StrategyName;
  readonly r: number;
  readonly diverged: number;
  /** Over the seeds that did not diverge. */
  readonly finalMse: MeanStd;
  /** Over the seeds that reached the target. */
  readonly stepsToTarget: MeanStd;
  readonly reachedTarget: number;
  /** Mean over seeds of each run's mean b max w, max of the maxima, mean fraction above 2. */
  readonly cap: CapStats;
  /**
   * Paired with uniform on the same seed (same data, same minibatches): on how many seeds the
   * final test MSE is strictly lower, and the target is reached strictly sooner (a seed that
   * reaches it when uniform does not counts; null when there is no uniform run).
   */
  readonly vsUniform: { lowerFinalMse: number; fasterToTarget: number } | null;
}

export interface SettingResult {
  /** 'shared' or 'dro-kl-stable'. */
  readonly name: string;
  readonly lr: number;
  readonly runs: {
    strategy: StrategyName;
    r: number;
    seeds: RegressionRun[];
    /** Mean test MSE at each evaluation over the seeds not diverged by then. */
    meanMse: (number | null)[];
  }[];
  readonly summary: StrategySummary[];
}

export interface RegressionResult {
  readonly experiment: 'regression-with-outliers';
  readonly version: 2;
  readonly config: RegressionConfig;
  readonly curvature: number;
  readonly evalSteps: number[];
  readonly learningRates: { shared: number; droKlStable: number | null };
  /** The learning rates tried for DRO-KL, largest first, and whether all seeds were stable. */
  readonly lrSearch: { lr: number; stable: boolean }[];
  readonly settings: SettingResult[];
}

function pairedWithUniform(
  seeds: RegressionRun[],
  uniform: RegressionRun[] | undefined,
): StrategySummary['vsUniform'] {
  if (uniform === undefined) return null;
  let lowerFinalMse = 0;
  let fasterToTarget = 0;
  seeds.forEach((run, k) => {
    const u = uniform[k];
    if (run.finalMse !== null && (u.finalMse === null || run.finalMse < u.finalMse))
      lowerFinalMse++;
    if (
      run.stepsToTarget !== null &&
      (u.stepsToTarget === null || run.stepsToTarget < u.stepsToTarget)
    ) {
      fasterToTarget++;
    }
  });
  return { lowerFinalMse, fasterToTarget };
}

function summarise(
  setting: StrategySetting,
  seeds: RegressionRun[],
  uniform: RegressionRun[] | undefined,
): StrategySummary {
  const finals = seeds.flatMap((s) => (s.finalMse === null ? [] : [s.finalMse]));
  const reached = seeds.flatMap((s) => (s.stepsToTarget === null ? [] : [s.stepsToTarget]));
  return {
    strategy: setting.strategy,
    r: setting.r,
    diverged: seeds.filter((s) => s.diverged).length,
    finalMse: meanStd(finals),
    stepsToTarget: meanStd(reached),
    reachedTarget: reached.length,
    cap: {
      meanMaxTimesB: seeds.reduce((a, s) => a + s.cap.meanMaxTimesB, 0) / seeds.length,
      maxMaxTimesB: Math.max(...seeds.map((s) => s.cap.maxMaxTimesB)),
      aboveCap: seeds.reduce((a, s) => a + s.cap.aboveCap, 0) / seeds.length,
    },
    vsUniform: pairedWithUniform(seeds, uniform),
  };
}

function runSetting(
  name: string,
  lr: number,
  datasets: RegressionData[],
  config: RegressionConfig,
): SettingResult {
  const runs = config.strategies.map((s) => {
    const seeds = config.seeds.map((seed, k) => trainRegression(datasets[k], s, lr, seed, config));
    // Mean over the seeds that have not diverged by that step (null when all have).
    const meanMse = seeds[0].mse.map((_, e) => {
      const vals = seeds.flatMap((run) => (run.mse[e] === null ? [] : [run.mse[e] as number]));
      return vals.length === 0 ? null : vals.reduce((a, v) => a + v, 0) / vals.length;
    });
    return { strategy: s.strategy, r: s.r, seeds, meanMse };
  });
  return {
    name,
    lr,
    runs,
    summary: runs.map((run, k) =>
      summarise(config.strategies[k], run.seeds, runs.find((u) => u.strategy === 'uniform')?.seeds),
    ),
  };
}

/**
 * The whole experiment: every strategy at the shared learning rate, then DRO-KL's largest
 * stable learning rate (the shared one times 2^(-k/2), k = 0, 1, ..., the first at which no
 * seed diverges), and every strategy again at that rate.
 */
export function runRegressionExperiment(
  config: RegressionConfig = DEFAULT_CONFIG,
): RegressionResult {
  const datasets = config.seeds.map((seed) => makeRegressionData(seed, config.data));
  const curvature = Math.max(...datasets.map((d) => largestCurvature(d)));
  const shared = config.lrScale / curvature;
  const settings = [runSetting('shared', shared, datasets, config)];
  const droKl = config.strategies.find((s) => s.strategy === 'dro-kl');
  const lrSearch: { lr: number; stable: boolean }[] = [];
  let droKlStable: number | null = null;
  if (droKl !== undefined) {
    for (let k = 0; k <= 40 && droKlStable === null; k++) {
      const lr = shared * 2 ** (-k / 2);
      const stable = config.seeds.every(
        (seed, j) => !trainRegression(datasets[j], droKl, lr, seed, config).diverged,
      );
      lrSearch.push({ lr, stable });
      if (stable) droKlStable = lr;
    }
    if (droKlStable !== null)
      settings.push(runSetting('dro-kl-stable', droKlStable, datasets, config));
  }
  const evalSteps = Array.from(
    { length: Math.floor(config.steps / config.evalEvery) + 1 },
    (_, e) => e * config.evalEvery,
  );
  return {
    experiment: 'regression-with-outliers',
    version: 2,
    config,
    curvature,
    evalSteps,
    learningRates: { shared, droKlStable },
    lrSearch,
    settings,
  };
}

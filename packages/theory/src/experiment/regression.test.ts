import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  meanStd,
  type RegressionConfig,
  runRegressionExperiment,
  SCALED_TARGETS_CONFIG,
  trainRegression,
} from './regression.js';
import {
  DEFAULT_DATA,
  largestCurvature,
  makeRegressionData,
  SCALED_TARGETS_DATA,
  testMse,
} from './regression-data.js';
import { formatSummary } from './summary-table.js';
import { regressionSvg } from './svg-plot.js';

const SMALL: RegressionConfig = {
  ...DEFAULT_CONFIG,
  data: { ...DEFAULT_DATA, dim: 5, cleanPoints: 120, testPoints: 100 },
  seeds: [0, 1],
  steps: 60,
  batchSize: 8,
  evalEvery: 5,
};

describe('regression-with-outliers experiment', () => {
  it('is deterministic for a seed and has the documented shape', () => {
    const a = runRegressionExperiment(SMALL);
    const b = runRegressionExperiment(SMALL);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.evalSteps).toEqual(Array.from({ length: 13 }, (_, e) => 5 * e));
    expect(a.settings[0].name).toBe('shared');
    expect(a.settings[0].runs.map((r) => r.strategy)).toEqual([
      'uniform',
      'linupper',
      'quadratic',
      'extremes',
      'dro-kl',
    ]);
    for (const run of a.settings[0].runs) {
      for (const s of run.seeds) expect(s.mse).toHaveLength(13);
    }
    // The DRO-KL search: largest first, the chosen rate is the first stable one.
    const firstStable = a.lrSearch.find((x) => x.stable);
    expect(a.learningRates.droKlStable).toBe(firstStable?.lr ?? null);
    if (firstStable !== undefined) {
      expect(a.settings[1].name).toBe('dro-kl-stable');
      expect(a.settings[1].summary[4].diverged).toBe(0);
    }
    expect(a.learningRates.shared).toBeCloseTo(SMALL.lrScale / a.curvature, 15);
    const other = runRegressionExperiment({ ...SMALL, seeds: [5, 6] });
    expect(JSON.stringify(other.settings[0].summary)).not.toBe(
      JSON.stringify(a.settings[0].summary),
    );
  });

  it('uniform full-batch training is plain gradient descent (independent loop)', () => {
    const data = makeRegressionData(3, SMALL.data);
    const n = data.y.length;
    const d = data.dim;
    const lr = 0.5 / largestCurvature(data);
    const run = trainRegression(data, { strategy: 'uniform', r: 1 }, lr, 0, {
      steps: 20,
      batchSize: n,
      evalEvery: 10,
      targetRatio: 0.5,
    });
    // Parameters: d weights and the bias (Appendix B's model).
    const w = new Float64Array(d + 1);
    for (let t = 0; t < 20; t++) {
      const g = new Float64Array(d + 1);
      for (let i = 0; i < n; i++) {
        let r = w[d] - data.y[i];
        for (let k = 0; k < d; k++) r += data.x[i * d + k] * w[k];
        for (let k = 0; k < d; k++) g[k] += (r * data.x[i * d + k]) / n;
        g[d] += r / n;
      }
      for (let k = 0; k <= d; k++) w[k] -= lr * g[k];
    }
    expect(run.finalMse).toBeCloseTo(testMse(data, w), 12);
    expect(run.finalMse!).toBeLessThan(run.mse[0]!);
    // Uniform weights never break the cap: b max w = 1.
    expect(run.cap).toEqual({ meanMaxTimesB: 1, maxMaxTimesB: 1, aboveCap: 0 });
  });

  it("Appendix B's setup: standard-normal outlier targets and a bias; the variant scales them", () => {
    const paper = makeRegressionData(0, { ...SMALL.data, outlierFraction: 0.5, cleanPoints: 2000 });
    const outliers = Array.from(paper.y).filter((_, i) => paper.isOutlier[i] === 1);
    const std = Math.sqrt(outliers.reduce((a, v) => a + v * v, 0) / outliers.length);
    expect(std).toBeGreaterThan(0.9);
    expect(std).toBeLessThan(1.1);
    expect(paper.fitBias).toBe(true);
    expect(paper.intercept).not.toBe(0);
    // Clean targets: <theta*, x> + b* + noise.
    const d = paper.dim;
    let dot = paper.intercept;
    for (let k = 0; k < d; k++) dot += paper.x[k] * paper.theta[k];
    expect(Math.abs(paper.y[0] - dot)).toBeLessThan(5 * SMALL.data.noise);
    const scaled = makeRegressionData(0, {
      ...SCALED_TARGETS_DATA,
      dim: 5,
      cleanPoints: 2000,
      outlierFraction: 0.5,
    });
    const so = Array.from(scaled.y).filter((_, i) => scaled.isOutlier[i] === 1);
    const sstd = Math.sqrt(so.reduce((a, v) => a + v * v, 0) / so.length);
    expect(sstd).toBeGreaterThan(2.7);
    expect(scaled.fitBias).toBe(false);
    expect(SCALED_TARGETS_CONFIG.setup).toBe('scaled-targets');
    expect(DEFAULT_CONFIG.setup).toBe('appendix-b');
  });

  it('power iteration finds the largest eigenvalue of X^T X / n', () => {
    const data = makeRegressionData(1, { ...SMALL.data, dim: 2, bias: false });
    const n = data.y.length;
    let a = 0;
    let b = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      a += data.x[2 * i] ** 2 / n;
      b += (data.x[2 * i] * data.x[2 * i + 1]) / n;
      c += data.x[2 * i + 1] ** 2 / n;
    }
    const top = (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
    expect(largestCurvature(data)).toBeCloseTo(top, 9);
  });

  it('a too-large learning rate diverges and is recorded as such', () => {
    const data = makeRegressionData(0, SMALL.data);
    const run = trainRegression(
      data,
      { strategy: 'dro-kl', r: 1 },
      50 / largestCurvature(data),
      0,
      SMALL,
    );
    expect(run.diverged).toBe(true);
    expect(run.finalMse).toBeNull();
    expect(run.mse[run.mse.length - 1]).toBeNull();
  });

  it('summary statistics, table and a self-contained SVG', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1, count: 3 });
    expect(meanStd([])).toEqual({ mean: null, std: null, count: 0 });
    const result = runRegressionExperiment(SMALL);
    // Paired comparison with uniform, recomputed from the per-seed runs.
    const shared = result.settings[0];
    expect(shared.summary[0].vsUniform).toEqual({ lowerFinalMse: 0, fasterToTarget: 0 });
    shared.runs.forEach((run, k) => {
      const uniform = shared.runs[0].seeds;
      const lower = run.seeds.filter(
        (s, j) =>
          s.finalMse !== null &&
          (uniform[j].finalMse === null || s.finalMse < uniform[j].finalMse!),
      ).length;
      expect(shared.summary[k].vsUniform?.lowerFinalMse).toBe(lower);
    });
    const table = formatSummary(result);
    expect(table).toMatch(/\| uniform \| 1 \| 0\/2 \|.*\| 1\.00 \/ 1\.00 \| 0\.0 % \|/);
    expect(table).toMatch(/Setup 'appendix-b': outlier targets N\(0, 1\), a bias term/);
    const svg = regressionSvg(result);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<script|href=|NaN|Infinity/);
    expect((svg.match(/<polyline/g) ?? []).length).toBeGreaterThanOrEqual(5);
  });
});

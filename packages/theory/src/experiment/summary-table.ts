import type { MeanStd, RegressionResult } from './regression.js';

function ms(v: MeanStd, digits: number): string {
  if (v.mean === null || v.std === null) return 'n/a';
  return `${v.mean.toFixed(digits)} ± ${v.std.toFixed(digits)}`;
}

function paired(count: number | undefined, strategy: string, n: number): string {
  return count === undefined || strategy === 'uniform' ? '-' : `${count}/${n}`;
}

/** The summary as Markdown tables, one per learning-rate setting (what the README quotes). */
export function formatSummary(result: RegressionResult): string {
  const n = result.config.seeds.length;
  const lines: string[] = [];
  const data = result.config.data;
  lines.push(
    `Setup '${result.config.setup}': outlier targets ${data.outlierTargetStd === 1 ? 'N(0, 1)' : `${data.outlierTargetStd} N(0, 1)`}, ${data.bias ? 'a bias term' : 'no bias term'}, outlier fraction ${data.outlierFraction}, outlier inputs ${data.outlierScale} N(0, I).`,
  );
  lines.push(
    `Regression with outliers: ${n} seeds, ${result.config.steps} steps, batch ${result.config.batchSize}, ` +
      `target test MSE = ${result.config.targetRatio} x initial; lambda_max = ${result.curvature.toFixed(4)}`,
  );
  if (result.learningRates.droKlStable === null) {
    lines.push('DRO-KL: no stable learning rate found in the search.');
  }
  for (const setting of result.settings) {
    lines.push('');
    lines.push(
      `${setting.name === 'shared' ? 'Shared learning rate' : "DRO-KL's largest stable learning rate"} ${setting.lr.toPrecision(4)}:`,
    );
    lines.push('');
    lines.push(
      '| strategy | r | diverged | final test MSE (mean ± std) | steps to target (mean ± std) | reached target | lower final MSE than uniform (paired seeds) | faster to target than uniform (paired seeds) | b max w: mean / max | steps above the 2/b cap |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const s of setting.summary) {
      lines.push(
        `| ${s.strategy} | ${s.r} | ${s.diverged}/${n} | ${ms(s.finalMse, 4)} | ${ms(s.stepsToTarget, 1)} | ${s.reachedTarget}/${n} | ${paired(s.vsUniform?.lowerFinalMse, s.strategy, n)} | ${paired(s.vsUniform?.fasterToTarget, s.strategy, n)} | ${s.cap.meanMaxTimesB.toFixed(2)} / ${s.cap.maxMaxTimesB.toFixed(2)} | ${(100 * s.cap.aboveCap).toFixed(1)} % |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

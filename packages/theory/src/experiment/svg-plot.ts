import type { RegressionResult } from './regression.js';

const COLORS: Record<string, string> = {
  uniform: '#444444',
  linupper: '#d62728',
  quadratic: '#1f77b4',
  extremes: '#2ca02c',
  'dro-kl': '#9467bd',
  linear: '#ff7f0e',
};

const PANEL_W = 460;
const PANEL_H = 400;
const MARGIN = { left: 64, right: 16, top: 40, bottom: 128 };

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmtTick(v: number): string {
  if (v >= 1e3 || v < 1e-2) return v.toExponential(0);
  return String(Number(v.toPrecision(2)));
}

/**
 * A self-contained SVG (no scripts, no external fonts or files): one panel per learning-rate
 * setting, mean test MSE over seeds vs step on a log scale, one line per strategy; a line
 * averages the seeds still running; where a seed diverges the legend says "diverged k/n" and an
 * x marks the last point of a line whose seeds all diverged.
 */
export function regressionSvg(result: RegressionResult): string {
  const steps = result.evalSteps;
  const maxStep = steps[steps.length - 1];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of result.settings) {
    for (const run of s.runs) {
      for (const v of run.meanMse) {
        if (v !== null && v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 1e-2;
    hi = 1;
  }
  const logLo = Math.floor(Math.log10(lo) * 4) / 4;
  const logHi = Math.ceil(Math.log10(hi) * 4) / 4 + (hi === lo ? 0.25 : 0);
  const width = PANEL_W * result.settings.length;
  const height = PANEL_H + 24;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img" aria-labelledby="lrw-title">`,
    `<title id="lrw-title">Test MSE vs step of linear regression with outliers, mean over ${result.config.seeds.length} seeds, per weighting strategy</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  result.settings.forEach((setting, p) => {
    const x0 = p * PANEL_W + MARGIN.left;
    const y0 = MARGIN.top;
    const w = PANEL_W - MARGIN.left - MARGIN.right;
    const h = PANEL_H - MARGIN.top - MARGIN.bottom;
    const sx = (step: number) => x0 + (step / maxStep) * w;
    const sy = (v: number) => y0 + h - ((Math.log10(v) - logLo) / (logHi - logLo)) * h;
    const title =
      setting.name === 'shared'
        ? `shared learning rate ${setting.lr.toPrecision(3)}`
        : `DRO-KL's largest stable learning rate ${setting.lr.toPrecision(3)}`;
    parts.push(
      `<text x="${x0 + w / 2}" y="20" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    );
    parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
    for (let e = Math.ceil(logLo * 4) / 4; e <= logHi + 1e-9; e += 0.25) {
      const y = sy(10 ** e).toFixed(1);
      parts.push(`<line x1="${x0}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="#eee"/>`);
      parts.push(
        `<text x="${x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmtTick(10 ** e)}</text>`,
      );
    }
    for (let k = 0; k <= 5; k++) {
      const step = Math.round((k * maxStep) / 5);
      parts.push(
        `<text x="${sx(step).toFixed(1)}" y="${y0 + h + 16}" text-anchor="middle">${step}</text>`,
      );
    }
    parts.push(`<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle">step</text>`);
    parts.push(
      `<text transform="translate(${x0 - 48},${y0 + h / 2}) rotate(-90)" text-anchor="middle">test MSE (mean of ${result.config.seeds.length} seeds)</text>`,
    );
    setting.runs.forEach((run, k) => {
      const color = COLORS[run.strategy] ?? '#000000';
      const pts: string[] = [];
      let last: [number, number] | null = null;
      for (let e = 0; e < run.meanMse.length; e++) {
        const v = run.meanMse[e];
        if (v === null || !(v > 0)) continue;
        last = [sx(steps[e]), sy(v)];
        pts.push(`${last[0].toFixed(1)},${last[1].toFixed(1)}`);
      }
      if (pts.length > 1) {
        parts.push(
          `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts.join(' ')}"/>`,
        );
      }
      const summary = setting.summary[k];
      if (summary.diverged === run.seeds.length && last !== null) {
        const [lx, ly] = last;
        parts.push(
          `<path d="M${lx - 4},${ly - 4}L${lx + 4},${ly + 4}M${lx - 4},${ly + 4}L${lx + 4},${ly - 4}" stroke="${color}" stroke-width="2"/>`,
        );
      }
      // Legend under the axis, two columns.
      const lx = x0 + (k % 2) * (w / 2);
      const ly = y0 + h + 54 + Math.floor(k / 2) * 15;
      const label = `${run.strategy} (r=${run.r})${summary.diverged > 0 ? `, diverged ${summary.diverged}/${run.seeds.length}` : ''}`;
      parts.push(
        `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      );
      parts.push(
        `<text x="${lx + 25}" y="${ly}" dominant-baseline="middle">${escapeXml(label)}</text>`,
      );
    });
  });
  parts.push(
    `<text x="8" y="${height - 6}" fill="#666">@lrw/theory regression with outliers: d=${result.config.data.dim}, ${result.config.data.cleanPoints} clean points, outlier fraction ${result.config.data.outlierFraction}, batch ${result.config.batchSize}</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

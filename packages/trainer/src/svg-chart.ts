import { crc32 } from './crc32.js';
import { escapeHtml } from './html-escape.js';

/**
 * Line charts as inline SVG strings: no library, no script, readable in any browser and in
 * print. Points with a null or non-finite y break the line (a skipped step leaves a gap).
 */
export interface ChartSeries {
  name: string;
  color: string;
  points: readonly (readonly [number, number | null])[];
  /** Dashed stroke (e.g. a reference series). */
  dashed?: boolean;
  /** Thinner, translucent stroke (e.g. the raw curve under a smoothed one). */
  faint?: boolean;
  /** Leave out of the legend. */
  hideInLegend?: boolean;
}

export interface ReferenceLine {
  y: number;
  label: string;
}

export interface LineChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Logarithmic y axis (all y must be > 0). */
  logY?: boolean;
  /** Horizontal reference lines, e.g. the 2/n cap at n * max w = 2. */
  referenceLines?: readonly ReferenceLine[];
  /** Force the y range to include these values. */
  includeY?: readonly number[];
  /** Fixed x range, e.g. [0, total steps]; default: the data's range. */
  xDomain?: readonly [number, number];
  /** At most this many points per series are drawn (evenly thinned). Default 600. */
  maxPoints?: number;
  /**
   * Fit the y range to the points with x >= this value only; earlier points run off the plot
   * (clipped). Keeps a loss curve's first steps from flattening the part worth comparing.
   */
  yRangeFromX?: number;
}

/** "Nice" tick values (1, 2, 5 x 10^k steps) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return niceTicks(min - pad, max + pad, count);
  }
  // rounded so that float noise (3.0000000000000004 - 2) does not pick the next step size
  const raw = Number(((max - min) / Math.max(1, count)).toPrecision(12));
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** Short tick label: 20000 -> 20k, 0.0005 -> 5e-4, 3.25 -> 3.25. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a < 1e-2) {
    const [m, e] = v.toExponential(1).split('e') as [string, string];
    return `${Number(m)}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(4)));
}

function thin<T>(points: readonly T[], max: number): readonly T[] {
  if (points.length <= max) return points;
  const out: T[] = [];
  const stride = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * stride)]!);
  return out;
}

function finite(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

/**
 * One chart as a `<figure>` holding the `<svg>` and an HTML legend. Returns a short note instead
 * when there is no data.
 */
export function lineChart(series: readonly ChartSeries[], options: LineChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const maxPoints = options.maxPoints ?? 600;
  const logY = options.logY === true;
  const drawn = series.map((s) => ({
    ...s,
    points: thin(
      s.points.filter(([x, y]) => Number.isFinite(x) && (y === null || !logY || y > 0)),
      maxPoints,
    ),
  }));
  const xs = drawn.flatMap((s) => s.points.map(([x]) => x));
  const yValues = (fromX: number) =>
    drawn.flatMap((s) =>
      s.points
        .filter(([x]) => x >= fromX)
        .map(([, y]) => y)
        .filter(finite),
    );
  let ys = yValues(options.yRangeFromX ?? Number.NEGATIVE_INFINITY);
  if (ys.length === 0) ys = yValues(Number.NEGATIVE_INFINITY); // nothing after yRangeFromX
  if (xs.length === 0 || ys.length === 0) {
    return `<p class="nodata">${escapeHtml(options.title)}: no data in these runs.</p>`;
  }
  for (const r of options.referenceLines ?? []) ys.push(r.y);
  for (const y of options.includeY ?? []) ys.push(y);
  const tf = (y: number) => (logY ? Math.log10(y) : y);
  let [yMin, yMax] = [Math.min(...ys.map(tf)), Math.max(...ys.map(tf))];
  let [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  if (yMax - yMin <= 1e-9 * Math.max(1, Math.abs(yMax))) {
    // a flat series: centre it in a band of +-10% (or +-1 around 0), half a decade on log axes
    const pad = logY ? 0.5 : Math.abs(yMax) > 0 ? Math.abs(yMax) * 0.1 : 1;
    [yMin, yMax] = [yMin - pad, yMax + pad];
  }
  if (options.xDomain) [xMin, xMax] = options.xDomain;
  if (!(xMax > xMin)) [xMin, xMax] = [xMin - 1, xMin + 1];
  let yTicks: number[];
  if (logY) {
    yTicks = logTicks(yMin, yMax);
  } else {
    // widen to whole tick steps so the axis starts and ends on a labelled value
    const inner = niceTicks(yMin, yMax, 5);
    const step = inner.length > 1 ? inner[1]! - inner[0]! : 1;
    yMin = Math.min(yMin, Number((Math.floor(yMin / step + 1e-9) * step).toPrecision(12)));
    yMax = Math.max(yMax, Number((Math.ceil(yMax / step - 1e-9) * step).toPrecision(12)));
    yTicks = niceTicks(yMin, yMax, 5).filter((t) => t >= yMin - 1e-9 && t <= yMax + 1e-9);
  }
  const xTicks = niceTicks(xMin, xMax, 6).filter((t) => t >= xMin && t <= xMax);

  const m = { left: 58, right: 14, top: 30, bottom: options.xLabel ? 44 : 28 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const px = (x: number) => m.left + ((x - xMin) / (xMax - xMin)) * pw;
  const py = (y: number) => m.top + ph - ((tf(y) - yMin) / (yMax - yMin)) * ph;
  const f = (v: number) => v.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(options.title)}">`,
    `<text class="title" x="${m.left}" y="18">${escapeHtml(options.title)}</text>`,
  );
  for (const t of yTicks) {
    const y = f(py(logY ? 10 ** t : t));
    parts.push(
      `<line class="grid" x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}"/>`,
      `<text class="tick" x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeHtml(formatTick(logY ? 10 ** t : t))}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = f(px(t));
    parts.push(
      `<line class="grid" x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}"/>`,
      `<text class="tick" x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${escapeHtml(formatTick(t))}</text>`,
    );
  }
  parts.push(`<rect class="frame" x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/>`);
  // lines are clipped to the plot area (yRangeFromX lets early points run off the top)
  // derived from the content, so the output is a pure function of the inputs; two charts with
  // the same id would also have the same clip rectangle
  const clipId = `clip-${crc32(new TextEncoder().encode(`${options.title}|${m.bottom}|${width}x${height}`)).toString(16)}`;
  parts.push(
    `<clipPath id="${clipId}"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath>`,
    `<g clip-path="url(#${clipId})">`,
  );
  for (const r of options.referenceLines ?? []) {
    const y = f(py(r.y));
    parts.push(`<line class="ref" x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}"/>`);
  }
  for (const s of drawn) {
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!finite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${f(px(x))} ${f(py(y))}`;
      pen = true;
    }
    const single = s.points.filter(([, y]) => finite(y));
    const cls = ['line', s.dashed ? 'dashed' : '', s.faint ? 'faint' : '']
      .filter(Boolean)
      .join(' ');
    parts.push(
      `<path class="${cls}" d="${d}" stroke="${escapeHtml(s.color)}"><title>${escapeHtml(s.name)}</title></path>`,
    );
    if (single.length === 1) {
      const [x, y] = single[0]!;
      parts.push(
        `<circle cx="${f(px(x))}" cy="${f(py(y!))}" r="3" fill="${escapeHtml(s.color)}"/>`,
      );
    }
  }
  for (const r of options.referenceLines ?? []) {
    parts.push(
      `<text class="reflabel" x="${m.left + 6}" y="${f(py(r.y) - 5)}">${escapeHtml(r.label)}</text>`,
    );
  }
  parts.push('</g>');
  if (options.xLabel) {
    parts.push(
      `<text class="axis" x="${m.left + pw / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    parts.push(
      `<text class="axis" transform="translate(13 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`,
    );
  }
  parts.push('</svg>');
  // The legend is HTML under the chart so long names wrap instead of overlapping the plot.
  const legend = drawn
    .filter((s) => !s.hideInLegend && s.points.some(([, y]) => finite(y)))
    .map(
      (s) =>
        `<li><span class="swatch${s.dashed ? ' dashed' : ''}" style="border-color:${escapeHtml(s.color)}"></span>${escapeHtml(s.name)}</li>`,
    )
    .join('');
  return `<figure class="chart">${parts.join('')}<ul class="legend">${legend}</ul></figure>`;
}

function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(min);
  const hi = Math.ceil(max);
  if (hi - lo >= 2) return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  // less than two decades: 1-2-5 steps in log space
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const k of [1, 2, 5]) {
      const t = e + Math.log10(k);
      if (t >= min - 1e-9 && t <= max + 1e-9) ticks.push(t);
    }
  }
  return ticks.length >= 1 ? ticks : [min, max];
}

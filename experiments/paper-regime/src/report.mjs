// The study's report, rebuilt from whatever runs have finished: results.json (the plan, every
// run with its status and numbers, the analysis and the conclusion) and one self-contained
// report.html (tables with the paired intervals, loss and effective-sample-size curves).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bucketMeans, escapeHtml, lineChart, writeBytesAtomic } from '@lrw/trainer';
import { analyse, conclusion, describeDifference, loadStudyRuns } from './analysis.mjs';
import { ANALYSIS, COMMON, LR_WARMUP_SHARE, REWEIGHT_WARMUP_SHARE } from './plan.mjs';

/** The hand-written discussion, added after the runs finished (optional). */
export const DISCUSSION = join(dirname(fileURLToPath(import.meta.url)), '..', 'discussion.md');

const COLORS = ['#404040', '#d62728', '#ff7f0e', '#2ca02c', '#1f77b4', '#9467bd'];

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1a1a1a; margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e4e4e4; text-align: left; } td.num { text-align: right; }
tr.mean th, tr.mean td { border-top: 2px solid #999; font-weight: 600; } tr.held th, tr.held td { border-top: 2px solid #999; font-style: italic; }
.std, .ci { color: #777; font-size: 11px; font-weight: 400; white-space: nowrap; }
td.better { color: #187a2f; font-weight: 600; } td.worse { color: #b3261e; font-weight: 600; }
p.note, caption { color: #555; text-align: left; } li { margin: 4px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(370px, 1fr)); gap: 12px 20px; }
figure.chart { margin: 0; } figure.chart svg { max-width: 100%; height: auto; }
svg .title { font-size: 13px; font-weight: 600; } svg .tick { font-size: 11px; fill: #555; } svg .axis { font-size: 11px; }
svg .grid { stroke: #ececec; } svg .frame { fill: none; stroke: #bbb; }
svg .line { fill: none; stroke-width: 1.8; } svg .ref { stroke: #b3261e; stroke-dasharray: 6 4; } svg .reflabel { font-size: 11px; fill: #b3261e; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 2px 14px; padding: 0; font-size: 12px; }
.swatch { display: inline-block; width: 16px; border-top: 3px solid; margin-right: 4px; }
`;

const fmt = (v, digits = 2) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';

function cellText(cell) {
  if (cell === undefined) return '–';
  return `${fmt(cell.mean)}${cell.n > 1 ? ` <span class="std">± ${fmt(cell.std)}</span>` : ''}`;
}

function deltaTd(paired, baseline) {
  const d = describeDifference(paired, baseline);
  if (paired === undefined) return '<td class="num">–</td>';
  const cls = d.verdict === 'better' ? ' better' : d.verdict === 'worse' ? ' worse' : '';
  const ci = paired.interval
    ? ` <span class="ci">[${fmt(paired.interval.low)}, ${fmt(paired.interval.high)}]</span>`
    : ' <span class="ci">(1 seed)</span>';
  return `<td class="num${cls}" title="${escapeHtml(d.text)}">${paired.mean > 0 ? '+' : ''}${fmt(paired.mean)}${paired.excludesZero ? '*' : ''}${ci}</td>`;
}

function perplexityTable(a, settings) {
  const baseline = ANALYSIS.baseline;
  const others = settings.filter((s) => s.label !== baseline).map((s) => s.label);
  const head = `<tr><th>domain</th><th>${baseline}</th>${others.map((l) => `<th>${escapeHtml(l)}</th><th>Δ</th>`).join('')}</tr>`;
  const row = (table, name, shown, cls = '') => {
    const cells = table.cells[name] ?? {};
    return `<tr${cls ? ` class="${cls}"` : ''}><th scope="row">${escapeHtml(shown)}</th><td class="num">${cellText(cells[baseline])}</td>${others
      .map(
        (l) => `<td class="num">${cellText(cells[l])}</td>${deltaTd(cells[l]?.paired, baseline)}`,
      )
      .join('')}</tr>`;
  };
  const v = a.validation;
  const body = [
    ...v.rows.filter((r) => r !== 'mean').map((r) => row(v, r, r)),
    row(v, 'mean', 'mean over training domains', 'mean'),
    ...a.heldOut.rows
      .filter((r) => r !== 'mean')
      .map((r) => row(a.heldOut, r, `${r} (held out)`, 'held')),
  ].join('');
  return `<table><caption>Final validation perplexity (whole split; lower is better), mean ± std over seeds. Δ: paired difference from ${baseline} (same seed), mean and 95% Student-t interval; * and colour: the interval excludes 0.</caption><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function weightsTable(a, settings) {
  const rows = settings
    .filter((s) => a.weights[s.label])
    .map((s) => {
      const w = a.weights[s.label];
      return `<tr><th scope="row">${escapeHtml(s.label)}</th><td class="num">${w.runs}</td><td class="num">${fmt(100 * w.essFraction, 1)}%</td><td class="num">${fmt(w.maxWeightTimesN)}</td><td class="num">${fmt(100 * w.capHeld, 0)}%</td></tr>`;
    });
  if (rows.length === 0) return '';
  return `<table><caption>Weights of the reweighted steps (after the plain-mean warm-up), mean over runs.</caption><thead><tr><th>setting</th><th>runs</th><th>ESS / n</th><th>n · max w</th><th>2/n cap held</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Each setting's curve averaged over its runs (values at the same step), then thinned. */
function meanCurves(runs, settings, pick, buckets, all = settings) {
  return settings
    .map((s) => {
      const i = all.findIndex((x) => x.label === s.label);
      const byStep = new Map();
      for (const r of runs.filter((x) => x.label === s.label && x.report)) {
        for (const [step, y] of pick(r.report)) {
          if (typeof y !== 'number' || !Number.isFinite(y)) continue;
          const e = byStep.get(step) ?? [0, 0];
          byStep.set(step, [e[0] + y, e[1] + 1]);
        }
      }
      const points = [...byStep.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([x, [sum, n]]) => [x, sum / n]);
      const thinned = buckets ? bucketMeans(points, buckets).points : points;
      return { name: s.label, color: COLORS[i % COLORS.length], points: thinned };
    })
    .filter((s) => s.points.length > 0);
}

function chart(series, options) {
  if (series.length === 0) return '';
  return lineChart(series, { width: 380, height: 240, xLabel: 'step', ...options });
}

function rungSection(a, runs, plan) {
  const rung = a.rung;
  const these = runs.filter((r) => r.rung === rung.id);
  const settings = plan.settings;
  const train = meanCurves(these, settings, (r) => r.train.map((t) => [t.step, t.meanLoss]), 120);
  const val = meanCurves(these, settings, (r) => r.eval.map((e) => [e.step, e.loss]));
  const ess = meanCurves(
    these,
    settings.filter((s) => s.label !== ANALYSIS.baseline),
    (r) =>
      r.train
        .filter((t) => typeof t.r === 'number')
        .map((t) => [t.step, t.weights.effectiveSampleSize / t.weights.n]),
    120,
    settings,
  );
  const from = 0.1 * rung.steps;
  return [
    `<section id="rung-${rung.id}"><h2>Rung ${rung.id}: ${escapeHtml(rung.title)}</h2>`,
    `<p class="note">${rung.tokenizer} tokenizer, gpt2-${rung.model}, ${rung.seqLen} x ${rung.batchSize} tokens per step, ${rung.steps} steps (${(rung.steps * rung.seqLen * rung.batchSize).toLocaleString('en-US')} tokens per run); ${a.done} of ${a.planned} runs finished.</p>`,
    a.done > 0 ? perplexityTable(a, settings) : '<p class="note">No finished run yet.</p>',
    weightsTable(a, settings),
    '<div class="charts">',
    chart(train, {
      title: 'Training loss (batch mean), seed mean',
      yLabel: 'nats / token',
      yRangeFromX: from,
    }),
    val.some((s) => s.points.length > 1)
      ? chart(val, {
          title: 'Validation loss (domain and seed mean)',
          yLabel: 'nats / token',
          yRangeFromX: from,
        })
      : '',
    chart(ess, {
      title: 'Effective sample size / n',
      yLabel: 'ESS / n',
      includeY: [0, 1],
    }),
    '</div></section>',
  ].join('\n');
}

function runsTable(runs) {
  const rows = runs.map((r) => {
    const v = r.validation ? Object.values(r.validation).map((d) => d.perplexity) : [];
    const meanPpl = v.length ? v.reduce((x, y) => x + y, 0) / v.length : undefined;
    const rate = r.trainSeconds
      ? (r.steps * r.config.seqLen * r.config.batchSize) / r.trainSeconds
      : undefined;
    const note = r.failure ? escapeHtml(r.failure.error.split('\n')[0]) : '';
    return `<tr><td>${escapeHtml(r.name)}</td><td>${r.status}</td><td class="num">${r.steps ?? 0}/${r.config.steps}</td><td class="num">${r.trainSeconds ? Math.round(r.trainSeconds) : '–'}</td><td class="num">${rate ? Math.round(rate) : '–'}</td><td class="num">${fmt(meanPpl)}</td><td class="num">${fmt(r.heldOut?.['web-unseen']?.perplexity)}</td><td>${note}</td></tr>`;
  });
  return `<table><thead><tr><th>run</th><th>status</th><th>steps</th><th>train s</th><th>tokens/s</th><th>mean val ppl</th><th>held-out ppl</th><th>note</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function discussionHtml() {
  if (!existsSync(DISCUSSION))
    return '<p class="note">Not written yet (experiments/paper-regime/discussion.md).</p>';
  return readFileSync(DISCUSSION, 'utf8')
    .split(/\n\s*\n/)
    .filter((p) => p.trim() !== '' && !p.startsWith('#'))
    .map((p) => `<p>${escapeHtml(p.trim())}</p>`)
    .join('\n');
}

export function renderStudyReport({
  plan,
  runs,
  rungs,
  lines,
  provenance,
  generatedAt = new Date(),
}) {
  const done = runs.filter((r) => r.status === 'done').length;
  const rungRows = plan.rungs
    .map(
      (r) =>
        `<tr><td>${r.id}</td><td>${escapeHtml(r.title)}</td><td>${r.tokenizer}</td><td class="num">${r.seqLen} x ${r.batchSize}</td><td class="num">${r.steps}</td><td class="num">${(r.steps * r.seqLen * r.batchSize).toLocaleString('en-US')}</td></tr>`,
    )
    .join('');
  const mail = provenance?.mail;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>paper-regime study</title><style>${CSS}</style></head><body>`,
    "<h1>Uniform against loss-based reweighting, from the demo's regime towards the paper's</h1>",
    `<p class="note">Pre-registered study (experiments/paper-regime/src/plan.mjs); ${done} of ${runs.length} runs finished; generated ${escapeHtml(generatedAt.toISOString().slice(0, 16).replace('T', ' '))} UTC.</p>`,
    '<h2>Conclusion (written by the script from the numbers)</h2>',
    `<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`,
    '<h2>Discussion</h2>',
    discussionHtml(),
    '<h2>Plan</h2>',
    `<table><thead><tr><th>rung</th><th>regime</th><th>tokenizer</th><th>tokens x batch</th><th>steps</th><th>tokens per run</th></tr></thead><tbody>${rungRows}</tbody></table>`,
    `<p class="note">Settings: ${plan.settings.map((s) => escapeHtml(s.label)).join(', ')}; seeds ${plan.seeds.join(', ')} (same seed: same initialisation and data order). Model gpt2-nano (4 layers, 4 heads, d 128${plan.modelOverrides ? `; this plan overrides ${escapeHtml(JSON.stringify(plan.modelOverrides))}` : ''}); AdamW (weight decay 0.01, betas 0.9/0.95), gradient clip 1.0, cosine LR from ${COMMON.peakLr} to ${COMMON.peakLr * COMMON.endLrRatio} after ${100 * LR_WARMUP_SHARE}% warm-up steps; plain mean loss for the first ${100 * REWEIGHT_WARMUP_SHARE}% of the steps, then the setting's r; domains sampled uniformly. Data: ${plan.data.maxBytesPerDomain / 1024} KiB per domain, ${100 * plan.data.validationFraction}% of each domain's documents for validation; the default corpus (books, speeches, dictionary, code, api-docs), RedPajama CommonCrawl + C4 (web), StackExchange, ArXiv${
      mail
        ? `, and ${mail.messages} SpamAssassin messages (mail; ${Object.entries(mail.groups)
            .map(([g, n]) => `${g} ${n}`)
            .join(', ')})`
        : ''
    }; Dolma CommonCrawl held out (web-unseen). Primary outcome: ${escapeHtml(ANALYSIS.primary)}.</p>`,
    ...plan.rungs.map((r) => rungSection(rungs[r.id], runs, plan)),
    '<h2>Every run</h2>',
    runsTable(runs),
    '</body></html>\n',
  ].join('\n');
}

/** Rebuilds results.json and report.html in `reportDir` from the runs under `out`. */
export async function writeStudyReport({ out, plan, reportDir, generatedAt }) {
  await mkdir(reportDir, { recursive: true });
  const runs = loadStudyRuns(out, plan);
  const rungs = analyse(runs, plan);
  const lines = conclusion(rungs, plan);
  const provenancePath = join(out, 'data', 'provenance.json');
  const provenance = existsSync(provenancePath)
    ? JSON.parse(readFileSync(provenancePath, 'utf8'))
    : undefined;
  const html = join(reportDir, 'report.html');
  await writeBytesAtomic(
    html,
    renderStudyReport({ plan, runs, rungs, lines, provenance, generatedAt }),
  );
  const json = join(reportDir, 'results.json');
  const results = {
    kind: 'lrw-paper-regime-study',
    plan: {
      name: plan.name,
      rungs: plan.rungs,
      settings: plan.settings,
      seeds: plan.seeds,
      data: plan.data,
      analysis: ANALYSIS,
    },
    data: provenance,
    conclusion: lines,
    analysis: Object.fromEntries(
      Object.entries(rungs).map(([id, a]) => [
        id,
        {
          done: a.done,
          planned: a.planned,
          validation: a.validation,
          heldOut: a.heldOut,
          relativeMeanPercent: a.relativeMean,
          weights: a.weights,
        },
      ]),
    ),
    runs: runs.map((r) => ({
      name: r.name,
      rung: r.rung,
      label: r.label,
      seed: r.seed,
      status: r.status,
      steps: r.steps ?? 0,
      trainSeconds: r.trainSeconds,
      config: r.config,
      validation: r.validation,
      heldOut: r.heldOut,
      weights: r.weights,
      ...(r.failure ? { failure: r.failure } : {}),
    })),
  };
  await writeBytesAtomic(json, `${JSON.stringify(results, null, 2)}\n`);
  return { json, html };
}

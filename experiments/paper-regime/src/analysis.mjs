// The pre-registered analysis (plan.mjs, ANALYSIS): per rung, each setting's paired difference
// from uniform (same seed) with its 95% Student-t interval, per domain, for the mean over the
// training domains and on the held-out domain; the weights' effective sample size; and a
// conclusion in plain words written from those numbers.
import { existsSync, readFileSync } from 'node:fs';
import { comparisonTable, loadReportRun } from '@lrw/trainer';
import { ANALYSIS, planRuns } from './plan.mjs';
import { runDir, runStatus, studyFiles } from './runner.mjs';

function readJson(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

/** Per-domain { loss, perplexity } of an `lrw eval` results file. */
export function evalDomains(evalJson) {
  const out = {};
  for (const [key, v] of Object.entries(evalJson?.results ?? {})) {
    if (key.startsWith('lrw_perplexity_')) {
      out[key.slice('lrw_perplexity_'.length)] = {
        loss: v['loss,none'],
        perplexity: v['perplexity,none'],
      };
    }
  }
  return out;
}

const num = (v) => typeof v === 'number' && Number.isFinite(v);
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/** Weight statistics of the reweighted steps (after the plain-mean warm-up; none for uniform). */
export function weightSummary(train) {
  const steps = train.filter((r) => num(r.r) && r.weights && num(r.weights.n) && r.weights.n > 0);
  if (steps.length === 0) return undefined;
  return {
    steps: steps.length,
    essFraction: mean(steps.map((r) => r.weights.effectiveSampleSize / r.weights.n)),
    maxWeightTimesN: mean(steps.map((r) => r.weights.maxWeightTimesN)),
    capHeld: steps.filter((r) => r.weights.capHolds).length / steps.length,
  };
}

/**
 * Every run of the plan with what it has: status, trainer records (for the curves), the final
 * numbers on the whole validation split and on the held-out domain.
 */
export function loadStudyRuns(out, plan) {
  return planRuns(plan).map((run) => {
    const dir = runDir(out, run);
    const f = studyFiles(dir);
    const status = runStatus(out, run);
    const entry = { ...run, dir, status, failure: readJson(f.failed) };
    if (existsSync(`${dir}/metrics.jsonl`)) entry.report = loadReportRun(dir);
    if (status === 'done') {
      entry.validation = evalDomains(readJson(f.evalFull));
      entry.heldOut = evalDomains(readJson(f.evalHeldOut));
    }
    if (entry.report) {
      const train = entry.report.train;
      entry.trainSeconds = entry.report.results?.trainSeconds;
      entry.weights = weightSummary(train);
      entry.steps = train.at(-1)?.step ?? 0;
    }
    return entry;
  });
}

/** ReportRun-shaped rows for comparisonTable: one per finished run, with the given domains. */
function tableRuns(runs, pick) {
  return runs
    .filter((r) => r.status === 'done')
    .map((r) => ({
      name: r.name,
      label: r.label,
      seed: r.seed,
      train: [],
      eval: [],
      results: { method: r.config.method, seed: r.seed, domains: pick(r) },
    }));
}

const perplexity = (res) =>
  Object.fromEntries(Object.entries(res.domains).map(([d, v]) => [d, v.perplexity]));

/**
 * Relative paired differences of the mean over domains, in percent of uniform's value with the
 * same seed: comparable across rungs (perplexities per byte and per GPT-2 token are not).
 */
function relativeMean(runs, baseline) {
  const rows = tableRuns(runs, (r) => r.validation);
  const meanOf = (r) => {
    const v = Object.values(r.results.domains).map((d) => d.perplexity);
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  const base = new Map(rows.filter((r) => r.label === baseline).map((r) => [r.seed, meanOf(r)]));
  const out = {};
  for (const r of rows) {
    if (r.label === baseline || !base.has(r.seed)) continue;
    const rel = (100 * (meanOf(r) - base.get(r.seed))) / base.get(r.seed);
    out[r.label] ??= { seeds: [], percent: [] };
    out[r.label].seeds.push(r.seed);
    out[r.label].percent.push(rel);
  }
  for (const v of Object.values(out)) v.mean = mean(v.percent);
  return out;
}

/** The numbers of the analysis, per rung. */
export function analyse(studyRuns, plan) {
  const baseline = ANALYSIS.baseline;
  const rungs = {};
  for (const rung of plan.rungs) {
    const runs = studyRuns.filter((r) => r.rung === rung.id);
    const validation = comparisonTable(
      tableRuns(runs, (r) => r.validation),
      perplexity,
      baseline,
      ANALYSIS.confidence,
    );
    const held = comparisonTable(
      tableRuns(runs, (r) => r.heldOut),
      perplexity,
      baseline,
      ANALYSIS.confidence,
    );
    const weights = {};
    for (const s of plan.settings) {
      const per = runs.filter((r) => r.label === s.label && r.weights);
      if (per.length === 0) continue;
      weights[s.label] = {
        runs: per.length,
        essFraction: mean(per.map((r) => r.weights.essFraction)),
        maxWeightTimesN: mean(per.map((r) => r.weights.maxWeightTimesN)),
        capHeld: mean(per.map((r) => r.weights.capHeld)),
      };
    }
    rungs[rung.id] = {
      rung,
      done: runs.filter((r) => r.status === 'done').length,
      planned: runs.length,
      validation,
      heldOut: held,
      relativeMean: relativeMean(runs, baseline),
      weights,
    };
  }
  return rungs;
}

function signed(v, digits = 2) {
  const s = v.toFixed(digits);
  return v > 0 && Number(s) !== 0 ? `+${s}` : s;
}

/** "+0.45 [+0.30, +0.60]: worse than uniform" and its verdict, for perplexity (lower is better). */
export function describeDifference(paired, baseline) {
  if (paired === undefined) return { verdict: 'missing', text: 'no paired runs yet' };
  if (paired.interval === undefined) {
    return {
      verdict: 'one-seed',
      text: `${signed(paired.mean)} with one seed (no interval exists)`,
    };
  }
  const ci = `${signed(paired.mean)} [${signed(paired.interval.low)}, ${signed(paired.interval.high)}] over ${paired.n} seeds`;
  if (!paired.excludesZero) {
    return { verdict: 'unresolved', text: `${ci}: no resolved difference from ${baseline}` };
  }
  return paired.mean < 0
    ? { verdict: 'better', text: `${ci}: better than ${baseline} (lower perplexity)` }
    : { verdict: 'worse', text: `${ci}: worse than ${baseline} (higher perplexity)` };
}

/** The conclusion in plain sentences, written from the numbers (whatever they say). */
export function conclusion(rungs, plan) {
  const baseline = ANALYSIS.baseline;
  const lines = [];
  for (const {
    rung,
    done,
    planned,
    validation,
    heldOut,
    relativeMean: rel,
    weights,
  } of Object.values(rungs)) {
    const head = `Rung ${rung.id} (${rung.title}; ${rung.steps} steps, ${(rung.steps * rung.seqLen * rung.batchSize).toLocaleString('en-US')} tokens per run; ${done} of ${planned} runs finished)`;
    if (done === 0) {
      lines.push(`${head}: no finished runs yet.`);
      continue;
    }
    const parts = [];
    for (const s of plan.settings) {
      if (s.label === baseline) continue;
      const m = describeDifference(validation.cells.mean?.[s.label]?.paired, baseline);
      if (m.verdict === 'missing') {
        parts.push(`${s.label}: no finished pair with ${baseline} yet.`);
        continue;
      }
      const domains = validation.rows.filter((r) => r !== 'mean');
      const verdicts = domains.map(
        (d) => describeDifference(validation.cells[d]?.[s.label]?.paired, baseline).verdict,
      );
      const better = verdicts.filter((v) => v === 'better').length;
      const worse = verdicts.filter((v) => v === 'worse').length;
      const h = describeDifference(heldOut.cells['web-unseen']?.[s.label]?.paired, baseline);
      const relText =
        rel[s.label]?.mean !== undefined ? ` (${signed(rel[s.label].mean, 1)}% of uniform)` : '';
      const w = weights[s.label];
      const wText = w
        ? `; after the warm-up its weights kept ${(100 * w.essFraction).toFixed(0)}% of the batch as effective samples, n·max w ${w.maxWeightTimesN.toFixed(2)}, 2/n cap held on ${(100 * w.capHeld).toFixed(0)}% of steps`
        : '';
      parts.push(
        `${s.label}: mean perplexity over the training domains ${m.text}${relText}; resolved per domain: better on ${better}, worse on ${worse} of ${domains.length}; held-out web text ${h.text}${wText}.`,
      );
    }
    lines.push(`${head}. ${parts.join(' ')}`);
  }
  // the paper's setting along the ladder
  const trend = Object.values(rungs)
    .filter((r) => r.relativeMean['linupper-r0.4']?.mean !== undefined)
    .map((r) => `${r.rung.id} ${signed(r.relativeMean['linupper-r0.4'].mean, 1)}%`);
  if (trend.length > 0) {
    lines.push(
      `LinUpper at the paper's r = 0.4, mean perplexity relative to uniform along the ladder: ${trend.join(', ')} (negative: better than uniform).`,
    );
  }
  return lines;
}

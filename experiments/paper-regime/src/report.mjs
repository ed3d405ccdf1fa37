// The study's report, rebuilt from whatever runs have finished: results.json (every run of the
// plan with its status and final numbers) and one trainer HTML report per rung.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBytesAtomic, writeReport } from '@lrw/trainer';
import { planRuns } from './plan.mjs';
import { runDir, runStatus, studyFiles } from './runner.mjs';

function readJson(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

/** Per-domain perplexity of an `lrw eval` results file: { domain: perplexity }. */
export function evalPerplexity(evalJson) {
  const out = {};
  for (const [key, v] of Object.entries(evalJson?.results ?? {})) {
    if (key.startsWith('lrw_perplexity_'))
      out[key.slice('lrw_perplexity_'.length)] = v['perplexity,none'];
  }
  return out;
}

export async function writeStudyReport({ out, plan, reportDir }) {
  await mkdir(reportDir, { recursive: true });
  const runs = planRuns(plan).map((run) => {
    const dir = runDir(out, run);
    const f = studyFiles(dir);
    return {
      name: run.name,
      rung: run.rung,
      label: run.label,
      seed: run.seed,
      status: runStatus(out, run),
      config: run.config,
      validation: evalPerplexity(readJson(f.evalFull)),
      heldOut: evalPerplexity(readJson(f.evalHeldOut)),
      failure: readJson(f.failed),
    };
  });
  const html = [];
  for (const rung of plan.rungs) {
    const dirs = runs
      .filter((r) => r.rung === rung.id && existsSync(join(runDir(out, r), 'metrics.jsonl')))
      .map((r) => runDir(out, r));
    if (dirs.length === 0) continue;
    const path = join(reportDir, `rung-${rung.id}.html`);
    await writeReport(dirs, path, { title: `paper-regime study, rung ${rung.id}: ${rung.title}` });
    html.push(path);
  }
  const json = join(reportDir, 'results.json');
  await writeBytesAtomic(
    json,
    `${JSON.stringify({ kind: 'lrw-paper-regime-study', plan: plan.name, runs }, null, 2)}\n`,
  );
  return { json, html: html.join(', ') };
}

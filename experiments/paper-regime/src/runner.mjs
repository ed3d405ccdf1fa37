// Trains the runs of a plan one after another, resumably: a finished run (its evaluations
// written) is skipped, an interrupted one continues from its latest checkpoint, a run whose
// trainer threw is recorded as failed (and reported, never dropped).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { formatDuration, ProgressLine, trainRun, writeBytesAtomic } from '@lrw/trainer';
import { prepareStudyData } from './data.mjs';
import { planRuns } from './plan.mjs';

const require = createRequire(import.meta.url);
/** The `lrw` CLI of the @lrw/trainer this study runs with. */
export const LRW_CLI = join(
  dirname(require.resolve('@lrw/trainer/package.json')),
  'dist/cli/main.js',
);

export function runDir(out, run) {
  return join(out, 'runs', run.name);
}

/** Files of one run directory the study adds to the trainer's own. */
export function studyFiles(dir) {
  return {
    results: join(dir, 'results.json'),
    evalFull: join(dir, 'eval-validation.json'),
    evalHeldOut: join(dir, 'eval-heldout.json'),
    failed: join(dir, 'study-failed.json'),
  };
}

/** 'done' | 'failed' | 'evaluating' (trained, evaluations missing) | 'partial' | 'todo'. */
export function runStatus(out, run) {
  const dir = runDir(out, run);
  const f = studyFiles(dir);
  if (existsSync(f.failed)) return 'failed';
  if (existsSync(f.results)) {
    return existsSync(f.evalFull) && existsSync(f.evalHeldOut) ? 'done' : 'evaluating';
  }
  return existsSync(join(dir, 'metrics.jsonl')) ? 'partial' : 'todo';
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * The files of a finished run the report reads (no checkpoints): what the archive keeps, so a
 * study outlives the machine it ran on. Committed under `results/runs/<rung>/<run>/`.
 */
export const ARCHIVED_FILES = [
  'config.json',
  'metrics.jsonl',
  'results.json',
  'eval-validation.json',
  'eval-heldout.json',
  'study-failed.json',
];

/** True when `archive` holds a finished (done or failed) copy of `run`. */
function archivedComplete(archive, run) {
  const dir = join(archive, run.name);
  if (existsSync(join(dir, 'study-failed.json'))) return true;
  return ['results.json', 'eval-validation.json', 'eval-heldout.json', 'metrics.jsonl'].every((f) =>
    existsSync(join(dir, f)),
  );
}

/**
 * Copies finished runs from `archive` into `out` where `out` does not have them yet (a new
 * machine continues the study where the archive left it). Returns the names restored.
 */
export async function restoreArchivedRuns(out, archive, runs) {
  const restored = [];
  if (!archive || !existsSync(archive)) return restored;
  const provenance = join(archive, 'provenance.json');
  const outProvenance = join(out, 'data', 'provenance.json');
  if (existsSync(provenance) && !existsSync(outProvenance)) {
    await mkdir(join(out, 'data'), { recursive: true });
    await writeBytesAtomic(outProvenance, readFileSync(provenance));
  }
  for (const run of runs) {
    if (runStatus(out, run) !== 'todo' || !archivedComplete(archive, run)) continue;
    const from = join(archive, run.name);
    const to = runDir(out, run);
    await mkdir(to, { recursive: true });
    for (const f of readdirSync(from)) {
      await writeBytesAtomic(join(to, f), readFileSync(join(from, f)));
    }
    restored.push(run.name);
  }
  return restored;
}

/** Copies a finished run's small files (ARCHIVED_FILES) into `archive`. */
export async function archiveRun(out, archive, run) {
  const from = runDir(out, run);
  const to = join(archive, run.name);
  await mkdir(to, { recursive: true });
  for (const f of ARCHIVED_FILES) {
    if (existsSync(join(from, f))) await writeBytesAtomic(join(to, f), readFileSync(join(from, f)));
  }
}

/**
 * `<out>/plan.json` holds the plan the runs were started with; another plan in the same folder
 * is refused (a changed budget is a new study: use a new --out).
 */
export async function pinPlan(out, plan) {
  const path = join(out, 'plan.json');
  const runs = planRuns(plan).map((r) => ({ name: r.name, config: r.config }));
  const pinned = { plan: plan.name, runs };
  if (existsSync(path)) {
    const before = readJson(path);
    if (JSON.stringify(before) !== JSON.stringify(pinned)) {
      const diff = runs.find((r, i) => JSON.stringify(r) !== JSON.stringify(before.runs?.[i]));
      throw new Error(
        `${path} holds another plan than this script's (first difference: ${diff?.name ?? 'the run list'}).\nHINT: the plan is pre-registered; use a new --out for a changed plan.`,
      );
    }
    return;
  }
  await mkdir(out, { recursive: true });
  await writeBytesAtomic(path, `${JSON.stringify(pinned, null, 2)}\n`);
}

function runCli(args, log) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [LRW_CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    child.stderr.on('data', (d) => {
      text += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(text);
      else {
        log?.(text);
        reject(new Error(`lrw ${args.join(' ')} exited with ${code}`));
      }
    });
  });
}

/**
 * A run whose evaluations covered the whole validation split already has its final numbers in
 * results.json: written in the shape of `lrw eval`'s results instead of a second pass.
 */
async function copyFinalEvaluation(dir, target) {
  const results = readJson(join(dir, 'results.json'));
  const blocks = {};
  for (const [domain, v] of Object.entries(results.domains)) {
    blocks[`lrw_perplexity_${domain}`] = { 'perplexity,none': v.perplexity, 'loss,none': v.loss };
  }
  const json = {
    results: blocks,
    config: {
      model: 'lrw',
      step: results.steps,
      source: "the trainer's final evaluation (whole split)",
    },
  };
  await writeBytesAtomic(target, `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * Seconds a run is expected to take: its tokens at its rung's pace measured so far (wall time,
 * evaluations included), else at the plan's training rate plus a third for the evaluations.
 */
function expectedSeconds(run, pace, plan) {
  const measured = pace.get(run.rung);
  if (measured !== undefined) return run.tokens / measured;
  return (1.33 * run.tokens) / (plan.tokensPerSecond[run.rung] ?? 1000);
}

/**
 * Trains and evaluates every run of `plan` not done yet. `log(line)` gets progress lines
 * (tokens/s, the run's ETA and the study's); returns the runs' statuses.
 */
export async function runStudy({ out, plan, corporaDir, log, modelOverrides, archive, rungs }) {
  await pinPlan(out, plan);
  const runs = planRuns(plan);
  const restored = await restoreArchivedRuns(out, archive, runs);
  if (restored.length > 0) log(`restored ${restored.length} finished runs from ${archive}`);
  const selected = (run) => rungs === undefined || rungs.includes(run.rung);
  const datasets = {};
  for (const tokenizer of [...new Set(runs.map((r) => r.tokenizer))]) {
    datasets[tokenizer] = await prepareStudyData({
      dataDir: join(out, 'data'),
      tokenizer,
      corporaDir,
      data: plan.data,
      log,
    });
  }
  const provenance = `${JSON.stringify(datasets[runs[0].tokenizer].provenance, null, 2)}\n`;
  await writeBytesAtomic(join(out, 'data', 'provenance.json'), provenance);
  if (archive) {
    await mkdir(archive, { recursive: true });
    await writeBytesAtomic(join(archive, 'provenance.json'), provenance);
  }
  // pace (tokens per wall second, evaluations included) of each rung, from its finished runs
  const pace = new Map();
  const paceSamples = new Map();
  const notePace = (run, seconds) => {
    const list = paceSamples.get(run.rung) ?? [];
    list.push(run.tokens / seconds);
    paceSamples.set(run.rung, list);
    pace.set(run.rung, list.reduce((a, b) => a + b, 0) / list.length);
  };
  const remaining = (from) =>
    runs
      .slice(from)
      .filter((r) => selected(r) && !['done', 'failed'].includes(runStatus(out, r)))
      .reduce((a, r) => a + expectedSeconds(r, pace, plan), 0);
  const started = Date.now();
  for (const [i, run] of runs.entries()) {
    const dir = runDir(out, run);
    const status = runStatus(out, run);
    const head = `[${i + 1}/${runs.length}] ${run.name}`;
    if (status === 'done' || status === 'failed') {
      log(`${head}: ${status} before, kept`);
      if (archive && !archivedComplete(archive, run)) await archiveRun(out, archive, run);
      continue;
    }
    if (!selected(run)) {
      log(`${head}: not in --rungs ${rungs.join(',')}, left ${status}`);
      continue;
    }
    const runStarted = Date.now();
    const dataset = datasets[run.tokenizer];
    const studyEta = () =>
      formatDuration(
        remaining(i + 1) +
          Math.max(0, expectedSeconds(run, pace, plan) - (Date.now() - runStarted) / 1000),
      );
    log(
      `${head}: ${status === 'partial' ? 'resuming' : status === 'evaluating' ? 'evaluating' : 'starting'} (${run.tokens.toLocaleString('en-US')} tokens); study ETA ${formatDuration(remaining(i))} at ${new Date(Date.now() + remaining(i) * 1000).toISOString().slice(0, 16)}Z`,
    );
    const files = studyFiles(dir);
    try {
      if (status !== 'evaluating') {
        await mkdir(dir, { recursive: true });
        const progress = new ProgressLine({
          totalSteps: run.config.steps,
          isTTY: false,
          logIntervalSeconds: 60,
          label: run.name,
          stream: { write: (text) => log(`${text.trimEnd()} | study ETA ${studyEta()}`) },
        });
        await trainRun(run.config, {
          dataDir: dataset.train,
          outDir: dir,
          label: run.label,
          resume: true,
          ...(run.evalBatches !== null ? { evalBatches: run.evalBatches } : {}),
          progress,
          ...(plan.modelOverrides ? { modelOverrides: plan.modelOverrides } : {}),
          ...(modelOverrides ? { modelOverrides } : {}),
        });
      }
      // the final numbers: the whole validation split, then the held-out domain
      if (!existsSync(files.evalFull)) {
        if (run.evalBatches === null) await copyFinalEvaluation(dir, files.evalFull);
        else await runCli(['eval', dir, '--data', dataset.train, '--out', files.evalFull], log);
      }
      if (!existsSync(files.evalHeldOut)) {
        await runCli(['eval', dir, '--data', dataset.heldOut, '--out', files.evalHeldOut], log);
      }
    } catch (error) {
      // a trainer's verdict on the run (e.g. too many bad steps) is a result, reported as
      // such; anything else (a full disk, a killed child) stops the study, to be resumed
      if (error?.name === 'TrainerError' && error.code !== 'data' && error.code !== 'backend') {
        await writeBytesAtomic(
          files.failed,
          `${JSON.stringify({ error: String(error?.message ?? error), at: new Date().toISOString() }, null, 2)}\n`,
        );
        log(`${head}: FAILED (${error.message}); recorded in ${files.failed}`);
        if (archive) await archiveRun(out, archive, run);
        continue;
      }
      throw error;
    }
    const seconds = (Date.now() - runStarted) / 1000;
    if (status === 'todo') notePace(run, seconds);
    if (archive) await archiveRun(out, archive, run);
    log(
      `${head}: done in ${formatDuration(seconds)}; study ETA ${formatDuration(remaining(i + 1))}`,
    );
  }
  const statuses = runs.map((r) => ({ name: r.name, status: runStatus(out, r) }));
  log(
    `study: ${statuses.filter((s) => s.status === 'done').length}/${runs.length} runs done in ${formatDuration((Date.now() - started) / 1000)} this session`,
  );
  return statuses;
}

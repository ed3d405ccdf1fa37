import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../src/checkpoint-store.js';
import { parseHistory } from '../../src/run-history.js';
import {
  metricsFingerprint,
  prepareByte,
  resultsFingerprint,
  spawnLrw,
  trainLines,
  waitFor,
} from './child-cli.js';
import { lrw } from './cli-harness.js';

// The failures of issue-style "hostile but realistic" use, through the CLI as a user runs it:
// a second process on one run directory, Ctrl-C and SIGTERM, a damaged or deleted shard, a
// moved run folder, a resume that changes settings. Each checks the exit code, the message and
// that no good file changed.
const root = mkdtempSync(join(tmpdir(), 'lrw-cli-reliability-'));
const data = join(root, 'data');
/** The run every test compares with: 24 steps, checkpoints every 3, evaluations every 6. */
const RUN = [
  '--steps',
  '24',
  '--seq-len',
  '16',
  '--batch-size',
  '2',
  '--eval-interval',
  '6',
  '--checkpoint-interval',
  '3',
  '--eval-batches',
  '2',
];
const straight = join(root, 'straight');

beforeAll(async () => {
  const p = await prepareByte(data);
  expect(p.code, p.stderr).toBe(0);
  // (a plain process: in a Vitest worker the CPU backend may round the last bits differently,
  // and every run compared with this one finishes in a plain process too)
  const t = await spawnLrw(['train', '--data', data, '--out', straight, ...RUN]).done;
  expect(t.code, t.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file of a folder (recursively) with its bytes, to show that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out[`${prefix}${e.name}`] = readFileSync(join(d, e.name)).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}
const history = (dir: string) => parseHistory(readFileSync(join(dir, 'history.jsonl'), 'utf8'));
const latestStep = async (dir: string) =>
  (await new CheckpointStore(join(dir, 'checkpoints')).latest())?.step;
/** No stack trace and no library option in what a user reads. */
function readable(text: string): void {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(
    /onMalformedLine|textField|domainField|prepare\(\)|defaultTrainerConfig|modelOverrides|listCheckpoints/,
  );
}

describe('one writer per run directory', () => {
  it('refuses a second lrw train naming the first; after kill -9 the stale lock is taken over', async () => {
    const out = join(root, 'locked');
    const first = spawnLrw(['train', '--data', data, '--out', out, ...RUN, '--steps', '100000']);
    // four steps: the checkpoint of step 3 is written before step 4 starts
    await waitFor(() => trainLines(out) >= 4, 'the first run to train');
    const before = {
      config: readFileSync(join(out, 'config.json'), 'utf8'),
      history: readFileSync(join(out, 'history.jsonl'), 'utf8'),
    };
    for (const resume of [[], ['--resume']]) {
      const second = await lrw('train', '--data', data, '--out', out, ...RUN, ...resume);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(
        `lrw train: ${out} is in use by pid ${first.child.pid} on host ${hostname()} (lrw train --data`,
      );
      readable(second.stderr);
    }
    expect(readFileSync(join(out, 'config.json'), 'utf8')).toBe(before.config);
    expect(readFileSync(join(out, 'history.jsonl'), 'utf8')).toBe(before.history);
    first.child.kill('SIGKILL');
    await first.done;
    expect(existsSync(join(out, 'lock'))).toBe(true); // left by the killed process
    const step = (await latestStep(out))!;
    const resumed = await lrw(
      'train',
      '--data',
      data,
      '--out',
      out,
      '--resume',
      '--steps',
      String(step + 1),
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(history(out).map((l) => [l.event, l.pid])).toEqual([
      ['start', first.child.pid],
      ['resume', process.pid],
      ['finished', process.pid],
    ]);
    expect(existsSync(join(out, 'lock'))).toBe(false);
  }, 120_000);
});

describe('Ctrl-C and SIGTERM', () => {
  it('SIGINT finishes the step, checkpoints it, says where and exits 130; the resumed run equals the straight one', async () => {
    const out = join(root, 'sigint');
    const run = spawnLrw([
      'train',
      '--data',
      data,
      '--out',
      out,
      ...RUN,
      '--checkpoint-interval',
      '1000',
    ]);
    await waitFor(() => trainLines(out) >= 2, 'two steps');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    const step = trainLines(out);
    expect(step).toBeLessThan(24);
    const ckpt = join(out, 'checkpoints', `step-${String(step).padStart(9, '0')}.lrwckpt`);
    expect(r.stderr).toContain(
      `lrw train: Training stopped after step ${step} of 24 (SIGINT): checkpoint written: ${ckpt}.`,
    );
    expect(r.stderr).toContain(`HINT: continue it with: lrw train --out ${out} --resume`);
    readable(r.stderr);
    expect(await latestStep(out)).toBe(step);
    expect(existsSync(join(out, 'lock'))).toBe(false);
    const resumed = await spawnLrw([
      'train',
      '--data',
      data,
      '--out',
      out,
      '--resume',
      '--checkpoint-interval',
      '3',
    ]).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(metricsFingerprint(out)).toEqual(metricsFingerprint(straight));
    expect(resultsFingerprint(out)).toEqual(resultsFingerprint(straight));
  }, 120_000);

  it('SIGTERM does the same with exit code 143', async () => {
    const out = join(root, 'sigterm');
    const run = spawnLrw(['train', '--data', data, '--out', out, ...RUN]);
    await waitFor(() => trainLines(out) >= 1, 'a step');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/Training stopped after step \d+ of 24 \(SIGTERM\)/);
    expect(history(out).at(-1)).toMatchObject({ event: 'interrupted', signal: 'SIGTERM' });
  }, 120_000);
});

describe('no work lost to a bad shard', () => {
  it('checkpoints before the final evaluation: a validation shard truncated mid-run loses no step', async () => {
    const copy = join(root, 'data-truncated');
    cpSync(data, copy, { recursive: true });
    const shard = join(copy, readdirSync(copy).find((f) => f.startsWith('validation-'))!);
    const good = readFileSync(shard);
    const out = join(root, 'final');
    const run = spawnLrw([
      'train',
      '--data',
      copy,
      '--out',
      out,
      ...RUN,
      '--eval-interval',
      '0',
      '--checkpoint-interval',
      '0',
    ]);
    await waitFor(() => trainLines(out) >= 1, 'the first step (after the start-up checks)');
    truncateSync(shard, good.length - 5);
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lrw train: ${shard}: `);
    expect(r.stderr).toContain('HINT: run the `lrw prepare` command that made this dataset again');
    readable(r.stderr);
    expect(await latestStep(out)).toBe(24); // everything trained is saved
    writeFileSync(shard, good);
    const resumed = await spawnLrw(['train', '--data', copy, '--out', out, '--resume']).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    const records = metricsFingerprint(out) as { kind: string }[];
    const reference = metricsFingerprint(straight) as { kind: string }[];
    expect(records.filter((x) => x.kind === 'train')).toEqual(
      reference.filter((x) => x.kind === 'train'),
    );
    expect(records.filter((x) => x.kind === 'eval')).toEqual(
      reference.filter((x) => x.kind === 'eval').slice(-1),
    );
  }, 120_000);

  it('verifies every shard before the first step: a damaged train shard, a deleted validation shard', async () => {
    const flip = (f: string) => {
      const b = readFileSync(f);
      b[b.length - 1] ^= 1;
      writeFileSync(f, b);
    };
    for (const [name, split, damage, expected] of [
      ['flipped', 'train-', flip, 'checksum mismatch'],
      [
        'deleted',
        'validation-',
        (f: string) => rmSync(f),
        'the dataset index lists this shard, but the file does not exist',
      ],
    ] as const) {
      const copy = join(root, `data-${name}`);
      cpSync(data, copy, { recursive: true });
      const shard = join(copy, readdirSync(copy).find((f) => f.startsWith(split))!);
      damage(shard);
      const out = join(root, `startup-${name}`);
      const r = await lrw('train', '--data', copy, '--out', out, ...RUN);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`lrw train: ${shard}: `);
      expect(r.stderr).toContain(expected);
      expect(r.stderr).not.toContain('ENOENT');
      readable(r.stderr);
      expect(existsSync(out)).toBe(false); // stopped before the first step: no run directory
    }
  }, 60_000);
});

describe('the run directory and --resume', () => {
  it('config.json names the real run directory: its --config --resume resumes there, even after a move', async () => {
    const out = join(root, 'moved-from');
    cpSync(straight, out, { recursive: true });
    expect(JSON.parse(readFileSync(join(straight, 'config.json'), 'utf8')).outputDir).toBe(
      straight,
    );
    const moved = join(root, 'elsewhere', 'moved-to');
    mkdirSync(join(root, 'elsewhere'));
    renameSync(out, moved);
    const cwd = join(root, 'cwd');
    mkdirSync(cwd);
    const r = await spawnLrw(
      [
        'train',
        '--data',
        data,
        '--config',
        join(moved, 'config.json'),
        '--resume',
        '--steps',
        '25',
      ],
      { cwd },
    ).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run directory: ${moved}`);
    expect(history(moved).at(-2)).toMatchObject({
      event: 'resume',
      step: 24,
      changes: { steps: { from: 24, to: 25 }, outputDir: { from: straight, to: moved } },
    });
    expect(readdirSync(cwd)).toEqual([]); // nothing trained into runs/run
  }, 60_000);

  it('--resume without a checkpoint is an error; --resume-or-start starts the run', async () => {
    const out = join(root, 'never-started');
    const r = await lrw('train', '--data', data, '--out', out, ...RUN, '--resume');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `lrw train: --resume: ${out} has no checkpoint to resume from.\nHINT: start the run without --resume, or with --resume-or-start (resume when there is a checkpoint, else start); check --out.\n`,
    );
    expect(existsSync(out)).toBe(false);
    const started = await lrw(
      'train',
      '--data',
      data,
      '--out',
      out,
      ...RUN,
      '--steps',
      '2',
      '--resume-or-start',
    );
    expect(started.code, started.stderr).toBe(0);
    expect(history(out).map((l) => l.event)).toEqual(['start', 'finished']);
  }, 60_000);

  it('a resume may lower the learning rate (recorded in history.jsonl); other changes are refused and change nothing', async () => {
    const out = join(root, 'override');
    cpSync(straight, out, { recursive: true });
    const before = snapshot(out);
    const refused = await lrw('train', '--data', data, '--out', out, '--resume', '--seed', '5');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'lrw train: The checkpoint was written with seed = 0; this run has 5.',
    );
    expect(refused.stderr).toContain(
      "HINT: resume with the run's own config: `lrw train --out <run> --resume` reads <run>/config.json. On resume only --lr",
    );
    readable(refused.stderr);
    expect(snapshot(out)).toEqual(before);
    const r = await lrw(
      'train',
      '--data',
      data,
      '--out',
      out,
      '--resume',
      '--lr',
      '1e-4',
      '--steps',
      '26',
    );
    expect(r.code, r.stderr).toBe(0);
    const resume = history(out).findLast((l) => l.event === 'resume') as {
      changes: Record<string, { from: { peakLr: number }; to: { peakLr: number } }>;
    };
    // (outputDir: the copy is in another folder)
    expect(Object.keys(resume.changes).sort()).toEqual(['lr', 'outputDir', 'steps']);
    expect([resume.changes.lr!.from.peakLr, resume.changes.lr!.to.peakLr]).toEqual([5e-4, 1e-4]);
  }, 60_000);
});

describe('a bad CPU setting in the environment', () => {
  it('LRW_TENSOR_THREADS=0: a message naming the variable and the fix, exit 1, nothing trained (no silent fallback to the slow reference kernels)', async () => {
    const out = join(root, 'bad-threads');
    const r = await spawnLrw(['train', '--data', data, '--out', out, ...RUN], {
      env: { LRW_TENSOR_THREADS: '0' },
    }).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "lrw train: The 'cpu' backend could not be started: LRW_TENSOR_THREADS=0: expected a whole number of threads from 1 to 1024",
    );
    expect(r.stderr).toContain('HINT: fix or unset the environment variable the message names');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(out, 'metrics.jsonl'))).toBe(false);
  }, 60_000);
});

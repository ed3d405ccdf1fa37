import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsFingerprint, resultsFingerprint, spawnLrw } from './child-cli.js';
import { lrw } from './cli-harness.js';

// Fault injection: `lrw train --resume-or-start` killed with SIGKILL at random moments (during
// the start-up checks and the lock, steps, metrics lines, checkpoint writes and evaluations),
// restarted until it finishes; the run must then equal an uninterrupted one bit for bit.
//
// In CI: LRW_SOAK_ROUNDS (default 2) rounds of up to LRW_SOAK_KILLS (default 2) kills each. The
// soak (npm run soak:kill -w @lrw/trainer) runs 100 rounds of up to 3 kills; it prints how many
// kills landed in each phase. LRW_SOAK_SEED picks the kill times.
const ROUNDS = Number(process.env.LRW_SOAK_ROUNDS ?? 2);
const KILLS = Number(process.env.LRW_SOAK_KILLS ?? 2);
const SEED = Number(process.env.LRW_SOAK_SEED ?? 26);
const corpus = fileURLToPath(new URL('./fixtures/tiny-corpus/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lrw-kill-resume-'));
const data = join(root, 'data');
const RUN = [
  '--steps',
  '16',
  '--seq-len',
  '16',
  '--batch-size',
  '2',
  '--eval-interval',
  '4',
  '--checkpoint-interval',
  '2',
  '--eval-batches',
  '2',
];
const straight = join(root, 'straight');
let runMs = 0;

beforeAll(async () => {
  const p = await lrw(
    'prepare',
    '--source',
    corpus,
    '--out',
    data,
    '--tokenizer',
    'byte',
    '--workers',
    '0',
    '--validation-documents',
    '2',
    '-q',
  );
  expect(p.code, p.stderr).toBe(0);
  const started = Date.now();
  const r = await spawnLrw(['train', '--data', data, '--out', straight, ...RUN]).done;
  runMs = Date.now() - started;
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Mulberry32: the kill times of a seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a kill left behind: evidence of where it landed. */
function phases(dir: string): string[] {
  const found: string[] = [];
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const ckpts = existsSync(join(dir, 'checkpoints')) ? readdirSync(join(dir, 'checkpoints')) : [];
  if (!files.includes('metrics.jsonl')) found.push('before the first step');
  if (files.includes('lock')) found.push('holding the lock');
  if (files.some((f) => f.startsWith('.lock.tmp-'))) found.push('taking the lock');
  if (ckpts.some((f) => f.includes('.tmp-'))) found.push('writing a checkpoint');
  if (files.some((f) => f.startsWith('.metrics.jsonl.tmp-') || f.startsWith('.config.json.tmp-'))) {
    found.push('rewriting metrics.jsonl or config.json');
  }
  const metrics = files.includes('metrics.jsonl')
    ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    : '';
  if (metrics !== '' && !metrics.endsWith('\n')) found.push('in the middle of a metrics line');
  return found;
}

describe('kill -9 at random moments, then --resume-or-start', () => {
  it(
    `${ROUNDS} rounds of up to ${KILLS} kills: always resumable and bit-identical`,
    async () => {
      const next = random(SEED);
      const landed = new Map<string, number>();
      let kills = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const out = join(root, `round-${round}`);
        for (let attempt = 0; ; attempt++) {
          const run = spawnLrw([
            'train',
            '--data',
            data,
            '--out',
            out,
            ...RUN,
            '--resume-or-start',
          ]);
          const killAt = attempt < KILLS ? next() * runMs * 1.2 : Number.POSITIVE_INFINITY;
          const timer = Number.isFinite(killAt)
            ? setTimeout(() => run.child.kill('SIGKILL'), killAt)
            : undefined;
          const r = await run.done;
          clearTimeout(timer);
          if (r.signal === 'SIGKILL') {
            kills++;
            for (const p of phases(out)) landed.set(p, (landed.get(p) ?? 0) + 1);
            continue;
          }
          expect(r.code, `round ${round}, attempt ${attempt}: ${r.stderr}`).toBe(0);
          break;
        }
        expect(metricsFingerprint(out), `round ${round}`).toEqual(metricsFingerprint(straight));
        expect(resultsFingerprint(out), `round ${round}`).toEqual(resultsFingerprint(straight));
        expect(existsSync(join(out, 'lock'))).toBe(false);
        rmSync(out, { recursive: true, force: true });
      }
      const summary = [...landed].map(([p, n]) => `${p}: ${n}`).join(', ');
      console.log(
        `kill -9 soak (seed ${SEED}): ${ROUNDS} runs, ${kills} kills, all resumed bit-identically; the kills left the run ${summary || '(no kill landed before the end)'}`,
      );
    },
    120_000 + ROUNDS * (KILLS + 1) * 60_000,
  );
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  metricsFingerprint,
  prepareByte,
  resultsFingerprint,
  spawnLrw,
  trainLines,
  waitFor,
} from './child-cli.js';

// Fault injection: `lrw train --resume-or-start` killed with SIGKILL at random moments (during
// the start-up checks and the lock, steps, metrics lines, checkpoint writes and evaluations),
// restarted until it finishes; the run must then equal an uninterrupted one bit for bit.
//
// In CI: LRW_SOAK_ROUNDS (default 2) runs of up to LRW_SOAK_KILLS (default 2) kills each. The
// soak (`npm run soak:kill` in packages/trainer) runs 100 of up to 3; it prints how many kills
// there were and what they left behind. LRW_SOAK_SEED picks the kill moments.
const ROUNDS = Number(process.env.LRW_SOAK_ROUNDS ?? 2);
const KILLS = Number(process.env.LRW_SOAK_KILLS ?? 2);
const SEED = Number(process.env.LRW_SOAK_SEED ?? 26);
const root = mkdtempSync(join(tmpdir(), 'lrw-kill-resume-'));
const data = join(root, 'data');
const STEPS = 16;
const RUN = [
  '--steps',
  String(STEPS),
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
/** Of the uninterrupted run: the time until its first train record, and per step after that. */
let startupMs = 0;
let stepMs = 0;

beforeAll(async () => {
  const p = await prepareByte(data);
  expect(p.code, p.stderr).toBe(0);
  const started = Date.now();
  const run = spawnLrw(['train', '--data', data, '--out', straight, ...RUN]);
  await waitFor(() => trainLines(straight) >= 1, 'the first step');
  startupMs = Date.now() - started;
  const r = await run.done;
  expect(r.code, r.stderr).toBe(0);
  stepMs = (Date.now() - started - startupMs) / STEPS;
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Mulberry32: the kill moments of a seed. */
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
function leftBehind(dir: string): string[] {
  const found: string[] = [];
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const ckpts = existsSync(join(dir, 'checkpoints')) ? readdirSync(join(dir, 'checkpoints')) : [];
  if (!files.includes('metrics.jsonl')) found.push('no step yet');
  if (files.includes('lock')) found.push('the lock');
  if (files.some((f) => f.startsWith('.lock.tmp-'))) found.push('a lock being taken');
  if (ckpts.some((f) => f.includes('.tmp-'))) found.push('a checkpoint being written');
  if (files.some((f) => /^\.(metrics\.jsonl|config\.json)\.tmp-/.test(f))) {
    found.push('metrics.jsonl or config.json being rewritten');
  }
  const metrics = files.includes('metrics.jsonl')
    ? readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    : '';
  if (metrics !== '' && !metrics.endsWith('\n')) found.push('a metrics line cut off');
  return found;
}

describe('kill -9 at random moments, then --resume-or-start', () => {
  it(
    `${ROUNDS} runs of up to ${KILLS} kills: always resumable and bit-identical`,
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
          if (attempt < KILLS) {
            // a quarter of the kills at a random moment of the start-up (data checks, lock,
            // resume), the others a random part of a step after a random step (metrics lines,
            // checkpoint writes, evaluations)
            const early = next() < 0.25;
            const step = Math.floor(next() * STEPS);
            const delay = next() * (early ? startupMs * 1.2 : stepMs * 1.5);
            void (async () => {
              if (!early) {
                const at = () => trainLines(out) >= step || run.child.exitCode !== null;
                await waitFor(at, 'a step', 600_000);
              }
              await new Promise((r) => setTimeout(r, delay));
              run.child.kill('SIGKILL');
            })();
          }
          const r = await run.done;
          if (r.signal === 'SIGKILL') {
            kills++;
            for (const p of leftBehind(out)) landed.set(p, (landed.get(p) ?? 0) + 1);
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
      const summary = [...landed].map(([p, n]) => `${p} ${n}`).join(', ');
      console.log(
        `kill -9 soak (seed ${SEED}): ${ROUNDS} runs, ${kills} kills, every run resumed bit-identically; left behind: ${summary || 'nothing (no kill landed)'}`,
      );
    },
    120_000 + ROUNDS * (KILLS + 1) * 60_000,
  );
});

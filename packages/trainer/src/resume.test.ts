import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoint-store.js';
import type { TrainStepRecord } from './metrics-record.js';
import { type TrainRunOptions, trainRun } from './run-training.js';
import {
  prepareFixtureData,
  SMALL_CONFIG,
  smallRunOptions,
  trainRecords,
} from './training.test-helpers.js';

let dataDir: string;
let root: string;
let straight: { records: TrainStepRecord[]; domains: unknown };
beforeAll(async () => {
  dataDir = await prepareFixtureData();
  root = await mkdtemp(join(tmpdir(), 'lrw-trainer-resume-'));
  const r = await trainRun(SMALL_CONFIG, options('straight'));
  straight = { records: trains(join(root, 'straight')), domains: r.results.domains };
}, 60_000);
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

const options = (name: string, extra: Partial<TrainRunOptions> = {}) =>
  smallRunOptions(dataDir, join(root, name), 2, extra);
const trains = trainRecords;

/** What must match bit for bit between a straight run and a resumed one. */
const fingerprint = (records: TrainStepRecord[]) =>
  records.map((r) => [r.step, r.loss, r.meanLoss, r.gradNorm, r.lr, r.domainLoss, r.tokens]);

describe('resume', () => {
  it('a run stopped after its step-6 checkpoint and resumed equals the straight 12 steps', async () => {
    const crash = new Error('simulated crash');
    await expect(
      trainRun(
        SMALL_CONFIG,
        options('crashed', {
          hooks: {
            beforeStep: (s) => {
              if (s === 9) throw crash;
            },
          },
        }),
      ),
    ).rejects.toBe(crash);
    expect(trains(join(root, 'crashed'))).toHaveLength(9);
    const resumed = await trainRun(SMALL_CONFIG, options('crashed', { resume: true }));
    const records = trains(join(root, 'crashed'));
    expect(records.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(fingerprint(records)).toEqual(fingerprint(straight.records));
    expect(resumed.results.domains).toEqual(straight.domains);
  }, 60_000);

  it('refuses to resume with a different config', async () => {
    await expect(
      trainRun({ ...SMALL_CONFIG, seed: 9 }, options('straight', { resume: true })),
    ).rejects.toThrow(/checkpoint was written with seed = 3; this run has 9/);
  }, 20_000);
});

// A real crash: the child process is killed with SIGKILL in the middle of its run.
const require = createRequire(import.meta.url);
const viteNode = (() => {
  try {
    return join(dirname(require.resolve('vite-node')), '..', 'vite-node.mjs');
  } catch {
    return undefined;
  }
})();
const hasViteNode = viteNode !== undefined && existsSync(viteNode);
if (!hasViteNode)
  console.warn('resume SIGKILL test skipped: vite-node (installed with vitest) not found');

describe.skipIf(!hasViteNode)('resume after SIGKILL', () => {
  it('a child killed after its step-6 checkpoint, resumed here, equals the straight run', async () => {
    const outDir = join(root, 'killed');
    const script = fileURLToPath(new URL('./resume-child.test-helpers.ts', import.meta.url));
    const child = spawn(process.execPath, [viteNode!, script, dataDir, outDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const killed = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('CKPT 6')) child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) =>
        signal ? resolve(signal) : reject(new Error(`child exited with ${code}: ${output}`)),
      );
    });
    expect(killed).toBe('SIGKILL');
    expect(output).not.toContain('DONE');
    expect((await new CheckpointStore(join(outDir, 'checkpoints')).latest())!.step).toBe(6);
    await trainRun(SMALL_CONFIG, options('killed', { resume: true }));
    expect(fingerprint(trains(outDir))).toEqual(fingerprint(straight.records));
  }, 60_000);
});

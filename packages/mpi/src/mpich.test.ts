import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addonPath } from './binding.js';
import { findMpirun, mpirunArgs } from './mpirun.js';

// The binding on MPICH (Hydra's mpiexec, ch4), next to the Open MPI the other tests use: the
// addon is built with MPICH's compiler wrapper into a folder of its own and loaded through
// LRW_MPI_ADDON. Debian installs MPICH's tools with a suffix beside Open MPI's.
const onPath = (name: string) =>
  findMpirun({ PATH: process.env.PATH }) !== undefined &&
  (() => {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
const skipReason = !onPath('mpirun.mpich')
  ? 'no MPICH (apt-get install mpich libmpich-dev: mpirun.mpich, mpicc.mpich)'
  : !onPath('mpicc.mpich')
    ? 'no mpicc.mpich (apt-get install libmpich-dev)'
    : undefined;
const pkg = fileURLToPath(new URL('..', import.meta.url));
const child = join(pkg, 'test', 'fixtures', 'world-child.mjs');
const dir = mkdtempSync(join(tmpdir(), 'lrw-mpich-'));
const mpichAddon = join(dir, 'lrw_mpi.node');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (skipReason) return;
  execFileSync(
    process.execPath,
    [join(pkg, 'scripts', 'build-native.mjs'), '--strict', '--out', mpichAddon],
    { env: { ...process.env, MPICC: 'mpicc.mpich' }, stdio: 'pipe' },
  );
}, 120_000);

function run(np: number, mode: string, options: { tcp?: boolean; addon?: string } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve, reject) => {
      const start = Date.now();
      const p = spawn(
        'mpirun.mpich',
        [...mpirunArgs({ np, tcp: options.tcp, flavour: 'hydra' }), process.execPath, child, mode],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, LRW_MPI_ADDON: options.addon ?? mpichAddon },
        },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      p.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - start }));
    },
  );
}

const ranks = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { rank: number; size: number; library: string; f64: number[] })
    .sort((a, b) => a.rank - b.rank);

describe.skipIf(skipReason !== undefined)(
  `MpiWorld on MPICH${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    // (not over TCP: UCX's TCP transport sometimes hangs in MPI_Finalize on loopback, after the
    // work is done; MpiWorld.finalize's deadline is what a user sees then)
    for (const [np, tcp] of [
      [2, false],
      [3, false],
    ] as const) {
      it(`${np} ranks${tcp ? ' over TCP (UCX_TLS=tcp,self)' : ''}: every collective gives the sums of the Open MPI tests`, async () => {
        const r = await run(np, 'ops', { tcp });
        expect(r.code, r.stderr).toBe(0);
        const lines = ranks(r.stdout);
        expect(lines.map((l) => [l.rank, l.size])).toEqual(
          Array.from({ length: np }, (_, k) => [k, np]),
        );
        for (const l of lines) {
          expect(l.library).toMatch(/MPICH/);
          // sum over ranks of r + 0.25, 1e-12 (r + 1) and -r: the same check as under Open MPI
          const t = (np * (np - 1)) / 2;
          expect(l.f64[0]).toBeCloseTo(t + 0.25 * np, 12);
          expect(l.f64[2]).toBe(-t);
        }
        // every rank ends with the same results
        const { rank: _r, ...first } = lines[0]!;
        for (const l of lines.slice(1)) {
          const { rank: _s, ...rest } = l;
          expect(rest).toEqual(first);
        }
      }, 60_000);
    }

    it('allReduceSumAsync: 5 calls in flight on the communication thread, in order, equal to the blocking sums', async () => {
      const r = await run(2, 'async');
      expect(r.code, r.stderr).toBe(0);
      const lines = ranks(r.stdout) as unknown as Record<string, unknown>[];
      expect(lines).toHaveLength(2);
      for (const l of lines) {
        expect([l.equal, l.settled, l.progressedWhileBusy, l.after]).toEqual([
          true,
          [0, 1, 2, 3, 4],
          true,
          1,
        ]);
      }
    }, 60_000);

    it('a rank that aborts ends the job with its code', async () => {
      const r = await run(2, 'abort-on-1');
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('rank 1: failing on purpose');
      expect(r.stdout).not.toMatch(/passed the barrier/);
      expect(r.ms).toBeLessThan(20_000);
    }, 30_000);

    it('a stuck rank: the waiting rank ends the job, naming itself and the call', async () => {
      const r = await run(2, 'hang-on-1');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('lrw: rank 0 of 2 waited more than 2 s in barrier');
      expect(r.ms).toBeLessThan(30_000);
    }, 60_000);

    it.skipIf(!addonPath().includes('dist'))(
      "the Open MPI addon under MPICH's launcher is refused, naming both (not a world of one)",
      async () => {
        const r = await run(2, 'ops', { addon: addonPath() });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain('an MPICH-style mpiexec (PMI) as rank');
        expect(r.stderr).toContain('the library is not connected to the launcher');
        expect(r.stdout).not.toMatch(/"size":1/);
      },
      60_000,
    );
  },
);

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMpirun, mpirunArgs } from '@lrw/mpi';
import type { TrainerConfig } from '../config.js';
import { type RunResults, readRunResults } from '../run-results.js';
import { CliError, type CliIo } from './io.js';
import { stopOnSignals } from './stop-signals.js';

/** The built `lrw` entry point (from src/ in tests and from dist/ alike). */
export const LRW_MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ChildRun {
  label: string;
  dir: string;
  config: TrainerConfig;
}

/**
 * Trains runs as `lrw train` child processes, `jobs` at a time: the CPU backend computes on one
 * thread, so on a 2-core machine two runs side by side take about as long as one. Each child
 * gets the run's full validated config as a file, so it trains exactly what a sequential
 * `trainRun` would; its stderr is forwarded line by line, prefixed with the label.
 */
export async function trainInChildren(
  runs: readonly ChildRun[],
  options: {
    data: string;
    jobs: number;
    evalBatches?: number;
    resume?: boolean;
    /**
     * MPI ranks per run (default 1): each run is `mpirun -np <ranks> lrw train` with the run's
     * batch split among the ranks (the global batch stays the config's batchSize).
     */
    ranks?: number;
  },
  io: CliIo,
): Promise<RunResults[]> {
  const ranks = options.ranks ?? 1;
  const mpirun = ranks > 1 ? findMpirun() : undefined;
  if (ranks > 1 && mpirun === undefined) {
    throw new CliError(
      `--ranks ${ranks} needs mpirun, and there is none on PATH.`,
      'install MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev, then npm run build), or leave out --ranks.',
    );
  }
  // mpirun forwards SIGUSR2 to every rank at once (SIGINT and SIGTERM only after a delay)
  const stopSignal = (signal: NodeJS.Signals): NodeJS.Signals => (ranks > 1 ? 'SIGUSR2' : signal);
  const results: RunResults[] = new Array(runs.length);
  let next = 0;
  // Ctrl-C or SIGTERM goes to every child (a terminal's Ctrl-C reaches them anyway, `kill <pid>`
  // would not): each finishes its step and writes a checkpoint; no new run starts. A second one
  // makes the children and this process quit at once.
  const children = new Set<ReturnType<typeof spawn>>();
  const stop = stopOnSignals(io, {
    onFirst: (signal) => {
      io.stderr(
        `lrw: ${signal}: each run stops after its current step and writes a checkpoint (again to quit at once)\n`,
      );
      for (const c of children) c.kill(stopSignal(signal));
    },
    onAgain: (signal) => {
      for (const c of children) c.kill(ranks > 1 ? 'SIGTERM' : signal);
    },
  });
  let stopped = 0;
  const worker = async () => {
    while (next < runs.length && !stop.signal.aborted) {
      const i = next++;
      const run = runs[i]!;
      mkdirSync(run.dir, { recursive: true });
      const configFile = join(run.dir, 'cli-config.json');
      writeFileSync(
        configFile,
        `${JSON.stringify({ ...run.config, batchSize: run.config.batchSize / ranks, outputDir: run.dir }, null, 2)}\n`,
      );
      const args = [
        LRW_MAIN,
        'train',
        '--data',
        options.data,
        '--out',
        run.dir,
        '--config',
        configFile,
        '--label',
        run.label,
        ...(options.evalBatches !== undefined
          ? ['--eval-batches', String(options.evalBatches)]
          : []),
        // a run that never reached a checkpoint starts again
        ...(options.resume ? ['--resume-or-start'] : []),
      ];
      await new Promise<void>((resolveRun, reject) => {
        const child =
          mpirun === undefined
            ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
            : spawn(mpirun, [...mpirunArgs({ np: ranks }), process.execPath, ...args], {
                stdio: ['ignore', 'ignore', 'pipe'],
              });
        children.add(child);
        let buffered = '';
        let tail = '';
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (chunk: string) => {
          buffered += chunk.replace(/\r/g, '\n');
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) {
            if (line.trim() === '') continue;
            // progress lines carry the label already
            io.stderr(line.startsWith(`${run.label} `) ? `${line}\n` : `[${run.label}] ${line}\n`);
            tail = `${tail}${line}\n`.slice(-4000);
          }
        });
        child.on('error', reject);
        child.on('close', (code) => {
          children.delete(child);
          if (buffered.trim()) tail += buffered;
          if (code === 0) resolveRun();
          else if (stop.signal.aborted) {
            stopped++;
            resolveRun();
          } else
            reject(
              new CliError(
                `the ${run.label} run (${run.dir}) failed with exit code ${code}:\n${tail.trim()}`,
                'fix what its message says, then re-run with --resume to keep the runs that finished.',
              ),
            );
        });
      });
      if (stop.signal.aborted && readRunResults(run.dir) === undefined) continue;
      const r = readRunResults(run.dir);
      if (r === undefined) {
        throw new CliError(`the ${run.label} run finished without ${run.dir}/results.json.`);
      }
      results[i] = r;
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(options.jobs, runs.length)) }, worker),
    );
  } finally {
    stop.dispose();
  }
  if (stop.signal.aborted) {
    const done = results.filter((r) => r !== undefined).length;
    throw new CliError(
      `stopped (${String(stop.signal.reason)}): ${stopped} run${stopped === 1 ? '' : 's'} stopped after writing a checkpoint, ${done} finished, ${runs.length - done - stopped} not started.`,
      'run the same command again with --resume: finished runs are kept and stopped ones continue from their checkpoints.',
      stop.exitCode,
    );
  }
  return results;
}

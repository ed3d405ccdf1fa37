import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { addonPath, findMpirun, mpirunArgs, mpirunFlavour } from '@lrw/mpi';
import { LRW_MAIN } from '../../src/cli/parallel-runs.js';

/** Why the multi-rank tests cannot run here, or undefined when they can. */
export function mpiSkipReason(): string | undefined {
  if (findMpirun() === undefined) {
    return 'no mpirun on PATH (apt-get install openmpi-bin libopenmpi-dev, then npm run build)';
  }
  if (!existsSync(addonPath())) {
    return `the @lrw/mpi addon ${addonPath()} is not built (npm run build with mpicc on PATH)`;
  }
  return undefined;
}

export interface MpiChild {
  pid: number;
  /** Resolves when mpirun has exited, with what the job printed. */
  done: Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * `mpirun -np <np> node <program> ...args` on this machine (`program` defaults to the built
 * `lrw`). `mca` adds Open MPI parameters (e.g. the TCP transport or the kill timeout); `env`
 * adds environment variables (the ranks on this machine inherit mpirun's environment).
 */
export function mpirunLrw(
  np: number,
  args: string[],
  options: {
    tcp?: boolean;
    mca?: [string, string][];
    program?: string;
    /** Another launcher than the `mpirun` on PATH (e.g. MPICH's `mpirun.mpich`). */
    mpirun?: string;
    /** Variables added to this process's environment (e.g. LRW_MPI_ADDON). */
    env?: Record<string, string>;
  } = {},
): MpiChild {
  const mca = (options.mca ?? []).flatMap(([k, v]) => ['--mca', k, v]);
  const started = Date.now();
  const mpirun = options.mpirun ?? findMpirun()!;
  const child = spawn(
    mpirun,
    [
      ...mpirunArgs({ np, tcp: options.tcp, flavour: mpirunFlavour(mpirun) }),
      ...mca,
      process.execPath,
      options.program ?? LRW_MAIN,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    },
  );
  return { pid: child.pid!, done, kill: (s) => child.kill(s) };
}

/** The processes whose parent is `pid` (Linux /proc), e.g. the ranks mpirun started. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // the fields after the command name, which is in parentheses and may hold spaces
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

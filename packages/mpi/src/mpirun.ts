import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The `mpirun` on PATH (Open MPI or MPICH's), or undefined when there is none. */
export function findMpirun(
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, 'mpirun');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface MpirunOptions {
  /** Processes to start. */
  np: number;
  /** Restrict Open MPI to its TCP transport (also between processes of one machine). */
  tcp?: boolean;
}

/**
 * The arguments of `mpirun` (Open MPI) that start `np` processes on this machine, before the
 * program and its arguments: `--oversubscribe` (more ranks than cores is allowed: each rank
 * then runs slower, nothing else changes) and, when running as root (containers, CI),
 * `--allow-run-as-root`, which Open MPI otherwise refuses.
 *
 * @example
 * spawn(findMpirun()!, [...mpirunArgs({ np: 2 }), process.execPath, 'train.js'])
 */
export function mpirunArgs(options: MpirunOptions): string[] {
  const args = ['--oversubscribe'];
  if (process.getuid?.() === 0) args.push('--allow-run-as-root');
  if (options.tcp) args.push('--mca', 'btl', 'tcp,self');
  args.push('-np', String(options.np));
  return args;
}

import { execFileSync } from 'node:child_process';
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

/** Which launcher an `mpirun` is: Open MPI's, or Hydra (MPICH, Intel MPI, MVAPICH). */
export type MpirunFlavour = 'open-mpi' | 'hydra';

const flavours = new Map<string, MpirunFlavour>();

/**
 * The flavour of the `mpirun` at `path` (default: the one on PATH), from its `--version` output;
 * remembered per path. Throws naming the path when it cannot be run or is neither.
 */
export function mpirunFlavour(path: string | undefined = findMpirun()): MpirunFlavour {
  if (path === undefined) {
    throw new Error(
      'no mpirun on PATH: install an MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev, or mpich libmpich-dev)',
    );
  }
  const known = flavours.get(path);
  if (known) return known;
  let text: string;
  try {
    text = execFileSync(path, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
  } catch (error) {
    throw new Error(`${path} --version failed: ${(error as Error).message.split('\n')[0]}`);
  }
  const flavour: MpirunFlavour | undefined = /Open MPI|OpenRTE/i.test(text)
    ? 'open-mpi'
    : /HYDRA|MPICH|Intel\(R\) MPI/i.test(text)
      ? 'hydra'
      : undefined;
  if (!flavour) {
    throw new Error(
      `${path} is neither Open MPI's mpirun nor a Hydra mpiexec (MPICH, Intel MPI); its --version printed: ${text.trim().split('\n')[0]}`,
    );
  }
  flavours.set(path, flavour);
  return flavour;
}

export interface MpirunOptions {
  /** Processes to start. */
  np: number;
  /** Restrict the transport to TCP (also between processes of one machine). */
  tcp?: boolean;
  /** The launcher's flavour; default: that of the `mpirun` on PATH (`mpirunFlavour()`). */
  flavour?: MpirunFlavour;
}

/**
 * The arguments of `mpirun` that start `np` processes on this machine, before the program and
 * its arguments. Open MPI: `--oversubscribe` (more ranks than cores is allowed: each rank then
 * runs slower, nothing else changes), `--allow-run-as-root` when running as root (containers,
 * CI), which Open MPI otherwise refuses, and `--mca btl tcp,self` for TCP. Hydra (MPICH)
 * oversubscribes and runs as root without being asked; it passes every rank UCX settings that
 * keep UCX's signal handlers and memory hooks out of Node, and for TCP, UCX's or libfabric's TCP
 * transport.
 *
 * @example
 * spawn(findMpirun()!, [...mpirunArgs({ np: 2 }), process.execPath, 'train.js'])
 */
export function mpirunArgs(options: MpirunOptions): string[] {
  const flavour = options.flavour ?? mpirunFlavour();
  if (flavour === 'hydra') {
    // UCX (Debian MPICH's transport) installs a SIGSEGV handler and hooks mmap/munmap; runtimes
    // with a JIT and their own memory manager (V8 here; the JVM and Julia too, whose MPI.jl turns
    // both off) can crash under them. UCX reads these when its library loads, so they go to
    // every rank through the launcher.
    const ucx = ['-genv', 'UCX_ERROR_SIGNALS', '', '-genv', 'UCX_MEM_EVENTS', 'no'];
    const tcp = options.tcp ? ['-genv', 'UCX_TLS', 'tcp,self', '-genv', 'FI_PROVIDER', 'tcp'] : [];
    return [...ucx, ...tcp, '-np', String(options.np)];
  }
  const args = ['--oversubscribe'];
  if (process.getuid?.() === 0) args.push('--allow-run-as-root');
  if (options.tcp) args.push('--mca', 'btl', 'tcp,self');
  args.push('-np', String(options.np));
  return args;
}

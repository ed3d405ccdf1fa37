#!/usr/bin/env node
// Builds the optional MPI addon (native/lrw_mpi.c -> dist/native/lrw_mpi.node) with `mpicc`
// against Node's own headers: no node-gyp, no network. Part of `npm run build`; it never fails
// the build: where there is no mpicc (no MPI development files) or no Node headers it prints
// why it skipped, and loading the binding later says what to install.
//
//   node scripts/build-native.mjs            build (skips with a reason)
//   node scripts/build-native.mjs --strict   exit 1 instead of skipping
//
// Environment: MPICC (compiler wrapper, default mpicc), LRW_MPI_NATIVE=off (skip),
// NODE_INCLUDE_DIR (directory holding node_api.h).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(pkgDir, 'native', 'lrw_mpi.c');
const outDir = join(pkgDir, 'dist', 'native');
const out = join(outDir, 'lrw_mpi.node');
const strict = process.argv.includes('--strict');

function skip(reason) {
  const text = `build-native: skipped the MPI addon (${reason}); multi-process training needs it (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev, then npm run build)`;
  if (strict) {
    console.error(text);
    process.exit(1);
  }
  console.log(text);
  process.exit(0);
}

if (process.env.LRW_MPI_NATIVE === 'off') skip('LRW_MPI_NATIVE=off');
if (process.platform === 'win32') skip('Windows is not supported');

function nodeIncludeDir() {
  const candidates = [
    process.env.NODE_INCLUDE_DIR,
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    process.config?.variables?.node_prefix &&
      join(process.config.variables.node_prefix, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((d) => d && existsSync(join(d, 'node_api.h')));
}

const include = nodeIncludeDir();
if (!include) {
  skip("Node's headers (node_api.h) not found; set NODE_INCLUDE_DIR to their directory");
}

if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) {
  console.log(`build-native: ${out} is up to date`);
  process.exit(0);
}

const cc = process.env.MPICC || 'mpicc';
const flags = ['-O2', '-fPIC', '-shared', '-std=c11', '-Wall', '-D_GNU_SOURCE', `-I${include}`];
if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
mkdirSync(outDir, { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(cc, [...flags, source, '-o', tmp], { stdio: ['ignore', 'pipe', 'pipe'] });
} catch (error) {
  const detail =
    error.code === 'ENOENT'
      ? `no MPI compiler wrapper '${cc}' on PATH`
      : `${cc} failed: ${String(error.stderr || error.message)
          .trim()
          .split('\n')
          .slice(0, 5)
          .join(' | ')}`;
  skip(detail);
}
renameSync(tmp, out);
console.log(`build-native: built ${out} (${cc}, headers ${include})`);

#!/usr/bin/env node
// Builds the optional MPI addon (native/lrw_mpi.c -> dist/native/lrw_mpi.node) with `mpicc`
// against Node's own headers: no node-gyp, no network. Part of `npm run build`; it never fails
// the build: where there is no mpicc (no MPI development files) or no Node headers it prints
// why it skipped, and loading the binding later says what to install.
//
//   node scripts/build-native.mjs            build (skips with a reason)
//   node scripts/build-native.mjs --strict   exit 1 instead of skipping
//   node scripts/build-native.mjs --out F    write the addon to F (then load it with LRW_MPI_ADDON=F)
//
// Environment: MPICC (compiler wrapper, default mpicc: the addon belongs to that MPI
// implementation, and must be started by its launcher), LRW_MPI_NATIVE=off (skip),
// NODE_INCLUDE_DIR (directory holding node_api.h).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(pkgDir, 'native', 'lrw_mpi.c');
const outFlag = process.argv.indexOf('--out');
const out =
  outFlag > 0 && process.argv[outFlag + 1]
    ? resolve(process.argv[outFlag + 1])
    : join(pkgDir, 'dist', 'native', 'lrw_mpi.node');
const outDir = dirname(out);
// the compiler wrapper that built `out`: another MPICC means another MPI, so a rebuild
const builtWith = `${out}.built-with`;
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

const cc = process.env.MPICC || 'mpicc';
const sameCompiler = () => existsSync(builtWith) && readFileSync(builtWith, 'utf8') === cc;
if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs && sameCompiler()) {
  console.log(`build-native: ${out} is up to date`);
  process.exit(0);
}

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
writeFileSync(builtWith, cc);
console.log(`build-native: built ${out} (${cc}, headers ${include})`);

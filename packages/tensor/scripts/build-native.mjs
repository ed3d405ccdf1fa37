#!/usr/bin/env node
// Builds the optional BLAS addon (native/lrw_blas.c and lrw_gemm.c -> dist/native/lrw_blas.node) with the
// system C compiler against Node's own headers: no node-gyp, no network, no link-time BLAS
// (the addon dlopens libopenblas at run time). Part of `npm run build`; it never fails the
// build: where there is no compiler, no headers or an unsupported platform it prints why it
// skipped, and the CPU backend keeps its wasm path.
//
//   node scripts/build-native.mjs            build (skips with a reason)
//   node scripts/build-native.mjs --strict   exit 1 instead of skipping
//
// Environment: CC (compiler, default cc), LRW_TENSOR_NATIVE=off (skip), NODE_INCLUDE_DIR
// (directory holding node_api.h).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(pkgDir, 'native', 'lrw_blas.c');
// The addon's own blocked sgemm and the row kernels (AVX2 + FMA through target attributes,
// chosen at run time) and their headers.
const sources = [
  source,
  join(pkgDir, 'native', 'lrw_gemm.c'),
  join(pkgDir, 'native', 'lrw_rows.c'),
];
const inputs = [
  ...sources,
  join(pkgDir, 'native', 'lrw_gemm.h'),
  join(pkgDir, 'native', 'lrw_rows.h'),
];
const outDir = join(pkgDir, 'dist', 'native');
const out = join(outDir, 'lrw_blas.node');
const strict = process.argv.includes('--strict');

function skip(reason) {
  const text = `build-native: skipped the BLAS addon (${reason}); the CPU backend uses its wasm kernels`;
  if (strict) {
    console.error(text);
    process.exit(1);
  }
  console.log(text);
  process.exit(0);
}

if (process.env.LRW_TENSOR_NATIVE === 'off') skip('LRW_TENSOR_NATIVE=off');
if (process.platform === 'win32') skip('Windows is not supported (the addon uses dlopen)');

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

if (existsSync(out) && inputs.every((f) => statSync(out).mtimeMs >= statSync(f).mtimeMs)) {
  console.log(`build-native: ${out} is up to date`);
  process.exit(0);
}

const cc = process.env.CC || 'cc';
const flags = ['-O2', '-fPIC', '-shared', '-std=c11', '-Wall', '-D_GNU_SOURCE', `-I${include}`];
if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
mkdirSync(outDir, { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(cc, [...flags, ...sources, '-o', tmp, '-ldl', '-lpthread', '-lm'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
} catch (error) {
  const detail =
    error.code === 'ENOENT'
      ? `no C compiler '${cc}' on PATH; set CC`
      : `${cc} failed: ${String(error.stderr || error.message)
          .trim()
          .split('\n')
          .slice(0, 5)
          .join(' | ')}`;
  skip(detail);
}
renameSync(tmp, out);
console.log(`build-native: built ${out} (${cc}, headers ${include})`);

#!/usr/bin/env node
// Builds the CUDA backend's kernels (cuda/*.cu) ahead of time. Always writes the flattened
// source dist/cuda-kernels/lrw-kernels.cu (what NVRTC compiles at run time when no image
// exists); where nvcc is found, also compiles it to dist/cuda-kernels/lrw-kernels.fatbin (SASS
// for sm_80 and sm_90 plus compute_80 PTX, which the driver compiles for other GPUs) with a
// manifest (source hash, kernel names, ptxas's register / spill / shared-memory report per
// architecture). Skipped when the source hash is unchanged. Never fails the build: without nvcc
// it prints why it skipped.
//
//   node scripts/build-cuda.mjs            build (skips nvcc with a reason)
//   node scripts/build-cuda.mjs --strict   exit 1 when nvcc is missing or fails
//
// Environment: NVCC (the compiler, default: nvcc on the PATH, then /usr/local/cuda/bin/nvcc),
// LRW_TENSOR_CUDA=off (skip the nvcc step), LRW_NVCC_THREADS (parallel targets, default 2).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(pkgDir, 'dist', 'cuda-kernels');
const strict = process.argv.includes('--strict');
const { flattenSource, kernelNames, sourceHash } = await import(
  join(pkgDir, 'dist', 'cuda', 'kernel-source.js')
);

export const ARCHS = [80, 90];

function atomicWrite(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function findNvcc() {
  const candidates = [process.env.NVCC, 'nvcc', '/usr/local/cuda/bin/nvcc'].filter(Boolean);
  for (const c of candidates) {
    try {
      const v = execFileSync(c, ['--version'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return {
        path: c,
        version: (/release [\d.]+, V[\d.]+/.exec(v) ?? [v.trim().split('\n').pop()])[0],
      };
    } catch {}
  }
  return undefined;
}

/** ptxas -v output -> { arch: { kernel: { registers, spillStores, spillLoads, stack, smem } } }. */
export function parsePtxasReport(text) {
  const report = {};
  let current;
  for (const line of text.split('\n')) {
    const fn = /Compiling entry function '(\w+)' for 'sm_(\d+)'/.exec(line);
    if (fn) {
      const arch = fn[2];
      report[arch] ??= {};
      current = report[arch][fn[1]] = {
        registers: 0,
        spillStores: 0,
        spillLoads: 0,
        stack: 0,
        smem: 0,
      };
      continue;
    }
    if (!current) continue;
    const spill = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(
      line,
    );
    if (spill)
      Object.assign(current, { stack: +spill[1], spillStores: +spill[2], spillLoads: +spill[3] });
    const used = /Used (\d+) registers/.exec(line);
    if (used) {
      current.registers = +used[1];
      const smem = /(\d+) bytes smem/.exec(line);
      if (smem) current.smem = +smem[1];
    }
  }
  return report;
}

mkdirSync(outDir, { recursive: true });
const source = flattenSource(join(pkgDir, 'cuda', 'kernels.cu'));
const hash = sourceHash(source);
const sourceFile = join(outDir, 'lrw-kernels.cu');
atomicWrite(sourceFile, source);
const image = join(outDir, 'lrw-kernels.fatbin');
const manifestFile = join(outDir, 'lrw-kernels.json');

function skip(reason) {
  const text = `build-cuda: no ahead-of-time kernel image (${reason}); the cuda backend compiles the kernels with NVRTC at run time`;
  // A stale image must not outlive its source.
  rmSync(image, { force: true });
  rmSync(manifestFile, { force: true });
  if (strict) {
    console.error(text);
    process.exit(1);
  }
  console.log(text);
  process.exit(0);
}

/** Bumped when the nvcc command changes, so an image built the old way is rebuilt. */
const RECIPE = 2;
if (existsSync(image) && existsSync(manifestFile)) {
  try {
    const old = JSON.parse(readFileSync(manifestFile, 'utf8'));
    if (old.hash === hash && old.recipe === RECIPE) {
      console.log(`build-cuda: kernels up to date (${hash})`);
      process.exit(0);
    }
  } catch {}
}
if (process.env.LRW_TENSOR_CUDA === 'off') skip('LRW_TENSOR_CUDA=off');
const nvcc = findNvcc();
if (!nvcc) skip('nvcc not found: set NVCC or put the CUDA toolkit on the PATH');
const started = Date.now();
const tmp = `${image}.${process.pid}.tmp`;
const args = [
  '-std=c++17',
  '-O3',
  '--fatbin',
  '-Xptxas',
  '-v',
  '--threads',
  process.env.LRW_NVCC_THREADS ?? '2',
];
// One front-end pass (compute_80 PTX), assembled by ptxas for each SASS target: the kernels use
// no instruction newer than sm_80, and one pass halves the build time.
const targets = [...ARCHS.map((a) => `sm_${a}`), `compute_${ARCHS[0]}`].join(',');
args.push('-gencode', `arch=compute_${ARCHS[0]},code=[${targets}]`, '-o', tmp, sourceFile);
const run = spawnSync(nvcc.path, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
const log = `${run.stdout ?? ''}${run.stderr ?? ''}`;
if (run.status !== 0) {
  rmSync(tmp, { force: true });
  if (strict) {
    console.error(`build-cuda: nvcc failed:\n${log}`);
    process.exit(1);
  }
  skip(`nvcc failed: ${log.split('\n').slice(0, 20).join('\n')}`);
}
// ptxas's resource report (-Xptxas -v, on stderr): registers, spills, shared memory per kernel.
const report = parsePtxasReport(log);
renameSync(tmp, image);
const manifest = {
  hash,
  recipe: RECIPE,
  kernels: kernelNames(source),
  archs: ARCHS,
  nvcc: nvcc.version,
  report,
};
atomicWrite(manifestFile, `${JSON.stringify(manifest, null, 1)}\n`);
console.log(
  `build-cuda: compiled ${manifest.kernels.length} kernels for sm_${ARCHS.join(', sm_')} + compute_${ARCHS[0]} PTX with nvcc ${nvcc.version} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);

#!/usr/bin/env node
// The ceiling of the wasm path's products: peak float32 multiply-add throughput of one core in
// wasm SIMD (f32x4 relaxed_madd, i.e. FMA on 128-bit vectors, and f32x4 mul + add without
// relaxed SIMD) against the same loop in C with 256-bit AVX2 FMA (what OpenBLAS's and our native
// sgemm's inner loops use), in one run. Each loop keeps 12 independent accumulators (more than
// FMA latency x issue width on current x86 cores), so it runs at the issue limit; nothing but
// registers is touched. A gemm cannot beat its core's multiply-add peak, so wasm gemm / native
// gemm <= wasm peak / AVX2 peak on a machine. Needs a C compiler (CC, else cc) and
// AssemblyScript (a dev dependency of this package).
//
//   node bench/simd-peak.mjs [--rounds 5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import asc from 'assemblyscript/asc';

const args = process.argv.slice(2);
const rounds = Number(args.includes('--rounds') ? args[args.indexOf('--rounds') + 1] : 5);
const ITER = 200_000_000; // 12 x 4 lanes x 2 flops each: 19.2 GFLOP per call
const ACC = 12;
const dir = mkdtempSync(join(tmpdir(), 'lrw-simd-peak-'));

// --- wasm: AssemblyScript, 12 v128 accumulators -------------------------------------------------
const accs = Array.from({ length: ACC }, (_, i) => i);
const asSource = (relaxed) => `
export function peak(n: i32, x: f32): f32 {
  const m = f32x4.splat(x);
  const a = f32x4.splat(1.0 - x);
${accs.map((i) => `  let c${i} = f32x4.splat(${i}.0 * x);`).join('\n')}
  for (let k = 0; k < n; k++) {
${accs
  .map((i) =>
    relaxed
      ? `    c${i} = f32x4.relaxed_madd(c${i}, m, a);`
      : `    c${i} = f32x4.add(f32x4.mul(c${i}, m), a);`,
  )
  .join('\n')}
  }
  let s = f32x4.splat(0);
${accs.map((i) => `  s = f32x4.add(s, c${i});`).join('\n')}
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}
`;
async function wasmPeak(relaxed) {
  const file = join(dir, relaxed ? 'relaxed.ts' : 'simd.ts');
  writeFileSync(file, asSource(relaxed));
  let binary = null;
  const flags = ['-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd'];
  if (relaxed) flags.push('--enable', 'relaxed-simd');
  const { error, stderr } = await asc.main([file, ...flags, '--outFile', 'peak.wasm'], {
    writeFile(name, contents) {
      if (name.endsWith('.wasm')) binary = contents;
    },
  });
  if (error || !binary) throw new Error(`asc: ${error?.message}\n${stderr}`);
  if (relaxed && !WebAssembly.validate(binary)) {
    setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20 (V8 11.3)
  }
  const { instance } = await WebAssembly.instantiate(binary, {
    env: { abort: () => {} },
  });
  return instance.exports.peak;
}

// --- C: AVX2 + FMA, 12 __m256 accumulators ------------------------------------------------------
const cSource = `
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char** argv) {
  long n = atol(argv[1]);
  float x = (float)atof(argv[2]);
  __m256 m = _mm256_set1_ps(x), a = _mm256_set1_ps(1.0f - x);
${accs.map((i) => `  __m256 c${i} = _mm256_set1_ps(${i}.0f * x);`).join('\n')}
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long k = 0; k < n; k++) {
${accs.map((i) => `    c${i} = _mm256_fmadd_ps(c${i}, m, a);`).join('\n')}
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  __m256 s = _mm256_setzero_ps();
${accs.map((i) => `  s = _mm256_add_ps(s, c${i});`).join('\n')}
  float out[8];
  _mm256_storeu_ps(out, s);
  double sec = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  printf("%.6f %f\\n", sec, out[0] + out[7]);
  return 0;
}
`;
function nativePeak() {
  const src = join(dir, 'peak.c');
  const exe = join(dir, 'peak');
  writeFileSync(src, cSource);
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-mavx2', '-mfma', src, '-o', exe]);
  return (n) =>
    Number(
      execFileSync(exe, [String(n), '0.999'])
        .toString()
        .split(' ')[0],
    );
}

const gflops = (lanes, sec) => (ITER * ACC * lanes * 2) / sec / 1e9;
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const relaxed = await wasmPeak(true);
const plain = await wasmPeak(false);
const native = nativePeak();
const time = (f) => {
  const t = performance.now();
  f(ITER, 0.999);
  return (performance.now() - t) / 1000;
};
time(relaxed); // warm-up: compile tiers
time(plain);
const rows = { relaxed: [], plain: [], avx2: [] };
for (let r = 0; r < rounds; r++) {
  rows.avx2.push(gflops(8, native(ITER)));
  rows.relaxed.push(gflops(4, time(relaxed)));
  rows.plain.push(gflops(4, time(plain)));
}
rmSync(dir, { recursive: true, force: true });
const avx2 = median(rows.avx2);
console.log(
  `one core, ${rounds} rounds alternating, median GFLOP/s (2 flops per lane per multiply-add)`,
);
console.log('| loop | GFLOP/s | / AVX2 FMA |\n|---|---|---|');
for (const [label, key] of [
  ['C, AVX2 FMA (8 lanes)', 'avx2'],
  ['wasm, f32x4 relaxed_madd (FMA, 4 lanes)', 'relaxed'],
  ['wasm, f32x4 mul + add (4 lanes)', 'plain'],
]) {
  const v = median(rows[key]);
  console.log(`| ${label} | ${v.toFixed(1)} | ${(v / avx2).toFixed(2)} |`);
}
console.log(`${cpus()[0]?.model ?? 'unknown CPU'}; node ${process.version}`);

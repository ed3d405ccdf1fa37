// Single-precision GEMM for @lrw/tensor's CPU fast path, compiled by AssemblyScript to wasm SIMD.
//
//   C[M,N] (+)= op(A)[M,K] x op(B)[K,N],  op(X) = X or X^T,  batched with element strides.
//
// Design (GotoBLAS / BLIS loop nest, Goto & van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication", TOMS 2008): B is packed into KC x NR column panels and A into MC x KC row
// panels (MR rows interleaved per k), both zero-padded to whole panels, so one MR x NR register
// micro-kernel handles every transpose combination and every shape; partial edge tiles go
// through a small scratch tile. The tile is 3 x 12 in the relaxed-SIMD (FMA) build and 4 x 8 in
// the plain-SIMD build (see `kernel`). Packing is f32x4 throughout (4 x 4 / 3 x 4 register
// transposes for the strided operands) and done once per block.
//
// Measured on the target machine (AMD EPYC Zen 3 VM, 32 KiB L1d and 512 KiB L2 per core, 32 MiB
// L3; Node 20 / V8 11.3), 2026-11-29, GFLOP per CPU-second in alternating A/B runs: a
// register-only FMA loop peaks at ~40 GFLOP/s per core in f32x4 (half of the 8-wide AVX2 FMA
// that OpenBLAS uses); the 3 x 12 FMA kernel reaches 28-35 on the benchmark shapes, +7-21% over
// the previous 4 x 8 kernel (KC = 512, MC = 128, NC = 1024, counted loop, scalar packing); the
// plain-SIMD 4 x 8 build gained 1-10% from the pointer loop and SIMD packing.
// FMA blocking: KC = 768 (one pass for C = 768 layers; the A block MC*KC*4 = 378 KiB stays in
// L2; the 36 KiB B micro-panel slightly overflows L1 yet measured 0-6% faster than KC = 512 or
// 384, mostly from fewer read-modify-write passes over C, which cost 6-8% at K = 3072 when C
// misses cache), NC = 2040 (the B block, 6 MiB, streams from L3). Splitting K into equal
// passes, KC = 256..1024, MC = 64..240 and NC = 256..4080 were otherwise within noise.
//
// All pointers are byte offsets into the (imported) linear memory; the caller owns allocation.
// `row0..row1` selects rows of the flattened [batch*M] output so a worker pool can split one call
// by rows (each worker needs its own `scratch` of `gemmScratchBytes()` bytes).

// Register tile (see `kernel`): 3 rows x 12 columns = 9 f32x4 accumulators with FMA; the plain
// SIMD build (separate multiply and add, one more register) keeps 4 x 8, which does not spill.
// ASC_FEATURE_RELAXED_SIMD is a compile-time constant: each build has one tile.
const FMA: bool = ASC_FEATURE_RELAXED_SIMD;
const MR: i32 = FMA ? 3 : 4;
const NR: i32 = FMA ? 12 : 8;
// Cache blocking (see the top of the file). MC and NC are multiples of MR and NR, so only the
// matrix edges make partial panels. The 4 x 8 build keeps its earlier tuning.
const KC: i32 = FMA ? 768 : 512;
const MC: i32 = FMA ? 126 : 128;
const NC: i32 = FMA ? 2040 : 1024;
// packA stores a whole f32x4 per k (MR = 3 floats + 1 overwritten by the next k): slack after
// the A block for the last panel's last store.
const PACK_SLACK: i32 = 4;

const FLAG_TRANS_A: i32 = 1;
const FLAG_TRANS_B: i32 = 2;
const FLAG_ACCUMULATE: i32 = 4;

/** Bytes of per-thread scratch that `gemm` needs: packed B block, packed A block, edge tile. */
export function gemmScratchBytes(): i32 {
  return (KC * NC + MC * KC + PACK_SLACK + MR * NR) * 4;
}

// acc += a * b; FMA where relaxed SIMD is compiled in (rounding then differs by <= 1 ulp/step).
// Small enough that binaryen's -O3 inliner always inlines it into the micro-kernel.
function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, acc);
  }
  return f32x4.add(acc, f32x4.mul(a, b));
}

// MR x NR micro-kernel over packed panels. `c` has a row stride of `ldc` bytes.
// Packed A: per k, MR floats (12 bytes). Packed B: per k, NR floats (48 bytes).
// Register budget (read from V8 11.3's x64 code, `node --print-wasm-code`): TurboFan issues a
// loop body's loads first (they are on the effect chain) and sinks the FMAs to the back edge,
// so the accumulators, the NR/4 B vectors and the MR A splats are live together, and V8 gives
// wasm SIMD 15 xmm registers (xmm15 is its scratch). 3x12 uses exactly 15 (9 + 3 + 3) with no
// spill and 9 independent FMA chains, above the 8 that two 4-cycle FMA pipes need; 4x8 (14
// registers, 8 chains) measured 6-16% slower, and every shape with more accumulators (4x12,
// 5x8, 6x8, 4x16) or any k-unrolling (the second step's loads are hoisted too) spills.
// Splatting A lanes from one f32x4 load (pshufd, sharing a port with FMA) instead of
// load32_splat was 5-25% slower, also as 5x8. The loop runs on the A pointer (no separate
// counter): +5-10% over a counted loop. Per k: 9 FMAs (4.5 cycles on 2 pipes), 6 loads; V8 adds
// ~9 integer ops (index zero-extensions, a stack check per iteration), within Zen 3's issue
// width.
function kernel(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, beta: bool): void {
  if (FMA) kernel3x12(kc, ap, bp, c, ldc, beta);
  else kernel4x8(kc, ap, bp, c, ldc, beta);
}

function kernel3x12(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, beta: bool): void {
  const z = f32x4.splat(0);
  let c00 = z;
  let c01 = z;
  let c02 = z;
  let c10 = z;
  let c11 = z;
  let c12 = z;
  let c20 = z;
  let c21 = z;
  let c22 = z;
  const aEnd = ap + <usize>kc * (MR * 4);
  while (ap < aEnd) {
    const b0 = v128.load(bp, 0);
    const b1 = v128.load(bp, 16);
    const b2 = v128.load(bp, 32);
    const a0 = v128.load32_splat(ap, 0);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    c02 = madd(a0, b2, c02);
    const a1 = v128.load32_splat(ap, 4);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    c12 = madd(a1, b2, c12);
    const a2 = v128.load32_splat(ap, 8);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    c22 = madd(a2, b2, c22);
    ap += MR * 4;
    bp += NR * 4;
  }
  let r = c;
  if (beta) {
    c00 = f32x4.add(c00, v128.load(r, 0));
    c01 = f32x4.add(c01, v128.load(r, 16));
    c02 = f32x4.add(c02, v128.load(r, 32));
  }
  v128.store(r, c00, 0);
  v128.store(r, c01, 16);
  v128.store(r, c02, 32);
  r += ldc;
  if (beta) {
    c10 = f32x4.add(c10, v128.load(r, 0));
    c11 = f32x4.add(c11, v128.load(r, 16));
    c12 = f32x4.add(c12, v128.load(r, 32));
  }
  v128.store(r, c10, 0);
  v128.store(r, c11, 16);
  v128.store(r, c12, 32);
  r += ldc;
  if (beta) {
    c20 = f32x4.add(c20, v128.load(r, 0));
    c21 = f32x4.add(c21, v128.load(r, 16));
    c22 = f32x4.add(c22, v128.load(r, 32));
  }
  v128.store(r, c20, 0);
  v128.store(r, c21, 16);
  v128.store(r, c22, 32);
}

// The plain-SIMD tile: 8 accumulators + 2 B vectors + 4 A splats = 14 registers, plus the
// product temporary of the separate multiply-add = 15 (3 x 12 would need 16 and spills one
// accumulator: measured 14-22% slower than this without FMA).
function kernel4x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, beta: bool): void {
  const z = f32x4.splat(0);
  let c00 = z;
  let c01 = z;
  let c10 = z;
  let c11 = z;
  let c20 = z;
  let c21 = z;
  let c30 = z;
  let c31 = z;
  const aEnd = ap + <usize>kc * 16;
  while (ap < aEnd) {
    const b0 = v128.load(bp, 0);
    const b1 = v128.load(bp, 16);
    const a0 = v128.load32_splat(ap, 0);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(ap, 4);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(ap, 8);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(ap, 12);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    ap += 16;
    bp += 32;
  }
  let r = c;
  if (beta) {
    c00 = f32x4.add(c00, v128.load(r, 0));
    c01 = f32x4.add(c01, v128.load(r, 16));
  }
  v128.store(r, c00, 0);
  v128.store(r, c01, 16);
  r += ldc;
  if (beta) {
    c10 = f32x4.add(c10, v128.load(r, 0));
    c11 = f32x4.add(c11, v128.load(r, 16));
  }
  v128.store(r, c10, 0);
  v128.store(r, c11, 16);
  r += ldc;
  if (beta) {
    c20 = f32x4.add(c20, v128.load(r, 0));
    c21 = f32x4.add(c21, v128.load(r, 16));
  }
  v128.store(r, c20, 0);
  v128.store(r, c21, 16);
  r += ldc;
  if (beta) {
    c30 = f32x4.add(c30, v128.load(r, 0));
    c31 = f32x4.add(c31, v128.load(r, 16));
  }
  v128.store(r, c30, 0);
  v128.store(r, c31, 16);
}

// Rows (or columns) past the end of the matrix read as zeros when packing an edge panel.
// `ld` is the byte stride between the vectors' sources; `count` how many of the 4 exist.
// (Small enough for binaryen's -O3 inliner, like `madd`.)
function loadRow(s: usize, ld: usize, i: i32, count: i32): v128 {
  return i < count ? v128.load(s + <usize>i * ld) : f32x4.splat(0);
}

// Pack op(B)[pc:pc+kc, jc:jc+nc] into NR-column panels: panel j holds, for each k, NR floats.
function packB(
  b: usize,
  transB: bool,
  n: i32,
  k: i32,
  pc: i32,
  kc: i32,
  jc: i32,
  nc: i32,
  dst: usize,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    const j0 = jc + jr;
    const d = dst + <usize>(jr * kc) * 4;
    if (!transB) {
      // B is [K,N]: each k contributes a contiguous run of `cols` floats.
      let s = b + (<usize>pc * <usize>n + <usize>j0) * 4;
      const ld = <usize>n * 4;
      let dd = d;
      if (cols === NR) {
        for (let p = 0; p < kc; p++) {
          for (let q: usize = 0; q < <usize>NR * 4; q += 16) v128.store(dd + q, v128.load(s + q));
          s += ld;
          dd += NR * 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          let j = 0;
          for (; j < cols; j++)
            store<f32>(dd + ((<usize>j) << 2), load<f32>(s + ((<usize>j) << 2)));
          for (; j < NR; j++) store<f32>(dd + ((<usize>j) << 2), 0);
          s += ld;
          dd += NR * 4;
        }
      }
    } else {
      // B is [N,K]: column j of op(B) is row j of B, contiguous in k. Transpose 4 columns x 4 k
      // at a time in registers; columns past `cols` read as zeros.
      const ld = <usize>k * 4;
      const kc4 = kc & ~3;
      for (let g = 0; g < NR; g += 4) {
        const s = b + (<usize>(j0 + g) * <usize>k + <usize>pc) * 4;
        const have = cols - g;
        let dd = d + <usize>g * 4;
        let p = 0;
        for (; p < kc4; p += 4) {
          const sp = s + ((<usize>p) << 2);
          const x0 = loadRow(sp, ld, 0, have);
          const x1 = loadRow(sp, ld, 1, have);
          const x2 = loadRow(sp, ld, 2, have);
          const x3 = loadRow(sp, ld, 3, have);
          const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
          const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
          const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
          v128.store(dd, i32x4.shuffle(t0, t1, 0, 1, 4, 5), 0);
          v128.store(dd, i32x4.shuffle(t0, t1, 2, 3, 6, 7), NR * 4);
          v128.store(dd, i32x4.shuffle(t2, t3, 0, 1, 4, 5), NR * 8);
          v128.store(dd, i32x4.shuffle(t2, t3, 2, 3, 6, 7), NR * 12);
          dd += NR * 16;
        }
        for (; p < kc; p++) {
          for (let j = 0; j < 4; j++) {
            const v = j < have ? load<f32>(s + <usize>j * ld + ((<usize>p) << 2)) : 0;
            store<f32>(dd + ((<usize>j) << 2), v);
          }
          dd += NR * 4;
        }
      }
    }
  }
}

// Pack op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels: panel i holds, for each k, MR floats.
// Each k's MR = 3 floats are written as one f32x4 whose last lane the next k overwrites (in
// increasing address order; the last one lands in the next panel, rewritten after, or in
// PACK_SLACK).
function packA(
  a: usize,
  transA: bool,
  m: i32,
  k: i32,
  ic: i32,
  mc: i32,
  pc: i32,
  kc: i32,
  dst: usize,
): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const i0 = ic + ir;
    let dd = dst + <usize>(ir * kc) * 4;
    if (transA) {
      // A is [K,M]: the MR values of one k are contiguous.
      let s = a + (<usize>pc * <usize>m + <usize>i0) * 4;
      const ld = <usize>m * 4;
      if (rows === MR) {
        for (let p = 0; p < kc; p++) {
          if (MR === 4) {
            v128.store(dd, v128.load(s));
          } else {
            store<u64>(dd, load<u64>(s));
            store<f32>(dd, load<f32>(s, 8), 8);
          }
          s += ld;
          dd += MR * 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          let r = 0;
          for (; r < rows; r++)
            store<f32>(dd + ((<usize>r) << 2), load<f32>(s + ((<usize>r) << 2)));
          for (; r < MR; r++) store<f32>(dd + ((<usize>r) << 2), 0);
          s += ld;
          dd += MR * 4;
        }
      }
    } else {
      // A is [M,K]: row r is contiguous in k. Transpose 3 rows x 4 k at a time in registers;
      // rows past `rows` read as zeros.
      const s = a + (<usize>i0 * <usize>k + <usize>pc) * 4;
      const ld = <usize>k * 4;
      const kc4 = kc & ~3;
      let p = 0;
      for (; p < kc4; p += 4) {
        const sp = s + ((<usize>p) << 2);
        const x0 = v128.load(sp);
        const x1 = loadRow(sp, ld, 1, rows);
        const x2 = loadRow(sp, ld, 2, rows);
        const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
        const t1 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
        if (MR === 4) {
          const x3 = loadRow(sp, ld, 3, rows);
          const t2 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
          const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
          v128.store(dd, i32x4.shuffle(t0, t2, 0, 1, 4, 5), 0);
          v128.store(dd, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
          v128.store(dd, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
          v128.store(dd, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
        } else {
          v128.store(dd, i32x4.shuffle(t0, x2, 0, 1, 4, 4), 0);
          v128.store(dd, i32x4.shuffle(t0, x2, 2, 3, 5, 5), MR * 4);
          v128.store(dd, i32x4.shuffle(t1, x2, 0, 1, 6, 6), MR * 8);
          v128.store(dd, i32x4.shuffle(t1, x2, 2, 3, 7, 7), MR * 12);
        }
        dd += MR * 16;
      }
      for (; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          const v = r < rows ? load<f32>(s + <usize>r * ld + ((<usize>p) << 2)) : 0;
          store<f32>(dd + ((<usize>r) << 2), v);
        }
        dd += MR * 4;
      }
    }
  }
}

// One matrix product restricted to output rows [i0, i1) and columns [j0, j1).
function gemmOne(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  transA: bool,
  transB: bool,
  accumulate: bool,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  scratch: usize,
): void {
  const ldc = <usize>n * 4;
  if (k === 0) {
    // Empty sum: C = 0 (or unchanged when accumulating).
    if (!accumulate) {
      for (let i = i0; i < i1; i++) {
        memory.fill(c + <usize>i * ldc + ((<usize>j0) << 2), 0, (<usize>(j1 - j0)) << 2);
      }
    }
    return;
  }
  const bp = scratch;
  const apk = scratch + <usize>(KC * NC) * 4;
  const tile = apk + <usize>(MC * KC + PACK_SLACK) * 4;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(b, transB, n, k, pc, kc, jc, nc, bp);
      const beta = accumulate || pc > 0;
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA(a, transA, m, k, ic, mc, pc, kc, apk);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const bpanel = bp + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const apanel = apk + <usize>(ir * kc) * 4;
            const cptr = c + <usize>(ic + ir) * ldc + <usize>(jc + jr) * 4;
            if (rows === MR && cols === NR) {
              kernel(kc, apanel, bpanel, cptr, ldc, beta);
            } else {
              // Edge tile: run the full kernel on a scratch tile, copy back the valid part.
              if (beta) {
                for (let r = 0; r < rows; r++) {
                  memory.copy(tile + <usize>(r * NR * 4), cptr + <usize>r * ldc, <usize>cols * 4);
                }
              }
              kernel(kc, apanel, bpanel, tile, NR * 4, beta);
              for (let r = 0; r < rows; r++) {
                memory.copy(cptr + <usize>r * ldc, tile + <usize>(r * NR * 4), <usize>cols * 4);
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Batched C[M,N] (+)= op(A) x op(B) over the output rows [row0, row1) of the flattened
 * [batch*M, N] result and its columns [col0, col1). Strides are in elements between consecutive
 * batch items (0 broadcasts). Threads split a call by rows (each packs all of B) or, for wide
 * products, by columns (each packs only its own B columns, nothing is packed twice).
 * flags: 1 = A is stored [K,M] (transposed), 2 = B is stored [N,K], 4 = accumulate into C.
 */
export function gemm(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  flags: i32,
  batch: i32,
  strideA: i32,
  strideB: i32,
  strideC: i32,
  row0: i32,
  row1: i32,
  col0: i32,
  col1: i32,
  scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  const total = batch * m;
  if (row1 > total) row1 = total;
  if (col0 < 0) col0 = 0;
  if (col1 > n) col1 = n;
  if (col0 >= col1) return;
  const transA = (flags & FLAG_TRANS_A) !== 0;
  const transB = (flags & FLAG_TRANS_B) !== 0;
  const accumulate = (flags & FLAG_ACCUMULATE) !== 0;
  let bi = row0 / m;
  while (bi * m < row1) {
    const base = bi * m;
    const i0 = max(row0 - base, 0);
    const i1 = min(row1 - base, m);
    gemmOne(
      a + <usize>bi * <usize>strideA * 4,
      b + <usize>bi * <usize>strideB * 4,
      c + <usize>bi * <usize>strideC * 4,
      m,
      n,
      k,
      transA,
      transB,
      accumulate,
      i0,
      i1,
      col0,
      col1,
      scratch,
    );
    bi++;
  }
}

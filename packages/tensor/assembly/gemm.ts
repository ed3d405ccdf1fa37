// Single-precision GEMM for @lrw/tensor's CPU fast path, compiled by AssemblyScript to wasm SIMD.
//
//   C[M,N] (+)= op(A)[M,K] x op(B)[K,N],  op(X) = X or X^T,  batched with element strides.
//
// Design (GotoBLAS / BLIS loop nest, Goto & van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication", TOMS 2008): B is packed into KC x NR column panels and A into MC x KC row
// panels (MR rows interleaved per k), both zero-padded to whole panels, so one MR x NR register
// micro-kernel handles every transpose combination and every shape; partial edge tiles go
// through a small scratch tile. Sizes target the measured machine (32 KiB L1d, 512 KiB L2 per
// core, 32 MiB L3): one B micro-panel (KC*NR*4 = 16 KiB) stays in L1 while the A block
// (MC*KC*4 = 256 KiB) streams from L2 and the B block (KC*NC*4 = 2 MiB) from L3. KC = 512 measured
// ~10% faster than 256 at n = 1024; MC and NC mattered less.
//
// All pointers are byte offsets into the (imported) linear memory; the caller owns allocation.
// `row0..row1` selects rows of the flattened [batch*M] output so a worker pool can split one call
// by rows (each worker needs its own `scratch` of `gemmScratchBytes()` bytes).

// Register tile: 4 rows x 8 columns = 8 f32x4 accumulators.
const MR: i32 = 4;
const NR: i32 = 8;
// Cache blocking.
const KC: i32 = 512;
const MC: i32 = 128;
const NC: i32 = 1024;

const FLAG_TRANS_A: i32 = 1;
const FLAG_TRANS_B: i32 = 2;
const FLAG_ACCUMULATE: i32 = 4;

/** Bytes of per-thread scratch that `gemm` needs: packed B block, packed A block, edge tile. */
export function gemmScratchBytes(): i32 {
  return (KC * NC + MC * KC + MR * NR) * 4;
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
// Packed A: per k, MR floats (16 bytes). Packed B: per k, NR floats (32 bytes).
// 4x8 keeps 8 f32x4 accumulators + 2 B vectors + 1 splat in registers: V8 gives wasm SIMD the
// 16 xmm registers of x64, and the 4x16 tile (16 accumulators) spilled, measured 25-40% slower.
function kernel(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, beta: bool): void {
  const z = f32x4.splat(0);
  let c00 = z;
  let c01 = z;
  let c10 = z;
  let c11 = z;
  let c20 = z;
  let c21 = z;
  let c30 = z;
  let c31 = z;
  for (let p = 0; p < kc; p++) {
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
    let d = dst + <usize>(jr * kc) * 4;
    if (!transB) {
      // B is [K,N]: each k contributes a contiguous run of `cols` floats.
      let s = b + (<usize>pc * <usize>n + <usize>j0) * 4;
      const ld = <usize>n * 4;
      if (cols === NR) {
        for (let p = 0; p < kc; p++) {
          for (let q = 0; q < NR * 4; q += 16) v128.store(d + q, v128.load(s + q));
          s += ld;
          d += NR * 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          let j = 0;
          for (; j < cols; j++) store<f32>(d + ((<usize>j) << 2), load<f32>(s + ((<usize>j) << 2)));
          for (; j < NR; j++) store<f32>(d + ((<usize>j) << 2), 0);
          s += ld;
          d += NR * 4;
        }
      }
    } else {
      // B is [N,K]: column j of op(B) is row j of B, contiguous in k.
      for (let j = 0; j < NR; j++) {
        const dj = d + ((<usize>j) << 2);
        if (j < cols) {
          let s = b + (<usize>(j0 + j) * <usize>k + <usize>pc) * 4;
          for (let p = 0; p < kc; p++) {
            store<f32>(dj + <usize>(p * NR * 4), load<f32>(s));
            s += 4;
          }
        } else {
          for (let p = 0; p < kc; p++) store<f32>(dj + <usize>(p * NR * 4), 0);
        }
      }
    }
  }
}

// Pack op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels: panel i holds, for each k, MR floats.
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
    const d = dst + <usize>(ir * kc) * 4;
    if (transA) {
      // A is [K,M]: the MR values of one k are contiguous.
      let s = a + (<usize>pc * <usize>m + <usize>i0) * 4;
      const ld = <usize>m * 4;
      let dd = d;
      if (rows === MR) {
        for (let p = 0; p < kc; p++) {
          for (let q = 0; q < MR * 4; q += 16) v128.store(dd + q, v128.load(s + q));
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
      // A is [M,K]: row r is contiguous in k.
      for (let r = 0; r < MR; r++) {
        const dr = d + ((<usize>r) << 2);
        if (r < rows) {
          let s = a + (<usize>(i0 + r) * <usize>k + <usize>pc) * 4;
          for (let p = 0; p < kc; p++) {
            store<f32>(dr + <usize>(p * MR * 4), load<f32>(s));
            s += 4;
          }
        } else {
          for (let p = 0; p < kc; p++) store<f32>(dr + <usize>(p * MR * 4), 0);
        }
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
  const tile = apk + <usize>(MC * KC) * 4;
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

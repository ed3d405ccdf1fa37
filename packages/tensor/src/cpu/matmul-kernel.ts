/**
 * Reference CPU matmul: `[...batch, M, K] x [...batch, K, N] -> [...batch, M, N]` for any operand
 * strides, so transposed operands (swapped strides) cost no copy at the tensor level. B is used
 * in place when its rows are contiguous, and otherwise packed once per batch into row-major
 * scratch (O(K N) next to O(M K N) work). The loop is i-k-j over a 4-row tile: each pass over a
 * row of B feeds four output rows, accumulated in float64. When B is a transposed row-major
 * matrix and A is row-major (x W^T, q k^T), dot products over contiguous rows replace packing.
 */
import { shapeSize } from '../shape.js';
import type { CpuKernel, NumArray } from './cpu-backend.js';

let packScratch = new Float32Array(0);
let panelA = new Float32Array(0);
let panelB = new Float32Array(0);

/** Below this many multiply-adds, packing costs more than it saves. */
const TILED_MIN_WORK = 16 * 16 * 16;
let accScratch = new Float64Array(0);

export const matmulKernel: CpuKernel = (call, cpu) => {
  const [av, bv] = call.inputs;
  const out = call.output;
  const A = cpu.array(av);
  const B = cpu.array(bv);
  const C = cpu.array(out);
  const r = out.shape.length;
  const M = out.shape[r - 2];
  const N = out.shape[r - 1];
  const K = av.shape[r - 1];
  const asM = av.strides[r - 2];
  const asK = av.strides[r - 1];
  const bsK = bv.strides[r - 2];
  const bsN = bv.strides[r - 1];
  const batchShape = out.shape.slice(0, r - 2);
  const batches = shapeSize(batchShape);
  if (accScratch.length < 4 * N) accScratch = new Float64Array(4 * N);
  const acc = accScratch;
  const idx = new Array<number>(batchShape.length).fill(0);
  for (let bi = 0; bi < batches; bi++) {
    let aOff = av.offset;
    let bOff = bv.offset;
    for (let d = 0; d < batchShape.length; d++) {
      aOff += idx[d] * av.strides[d];
      bOff += idx[d] * bv.strides[d];
    }
    const cOff = out.offset + bi * M * N;
    if (M * N * K >= TILED_MIN_WORK) {
      tiled(A, aOff, asM, asK, B, bOff, bsK, bsN, C, cOff, M, N, K);
    } else if (bsK === 1 && asK === 1 && N > 1 && K > 1) {
      // B^T stored row-major (x W^T, q k^T): dot products over contiguous rows of both operands.
      dotRows(A, aOff, asM, B, bOff, bsN, C, cOff, M, N, K);
    } else {
      ikjTile(A, aOff, asM, asK, B, bOff, bsK, bsN, C, cOff, M, N, K, acc);
    }
    for (let d = batchShape.length - 1; d >= 0; d--) {
      if (++idx[d] < batchShape[d]) break;
      idx[d] = 0;
    }
  }
};

/** C[i, j] = sum_k A[i, k] B^T[j, k], four output columns per pass over a row of A. */
function dotRows(
  A: NumArray,
  aOff: number,
  asM: number,
  B: NumArray,
  bOff: number,
  bsN: number,
  C: NumArray,
  cOff: number,
  M: number,
  N: number,
  K: number,
): void {
  for (let i = 0; i < M; i++) {
    const a = aOff + i * asM;
    const c = cOff + i * N;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = bOff + j * bsN;
      const b1 = b0 + bsN;
      const b2 = b1 + bsN;
      const b3 = b2 + bsN;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a + k];
        s0 += x * B[b0 + k];
        s1 += x * B[b1 + k];
        s2 += x * B[b2 + k];
        s3 += x * B[b3 + k];
      }
      C[c + j] = s0;
      C[c + j + 1] = s1;
      C[c + j + 2] = s2;
      C[c + j + 3] = s3;
    }
    for (; j < N; j++) {
      const b0 = bOff + j * bsN;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a + k] * B[b0 + k];
      C[c + j] = s;
    }
  }
}

/** i-k-j over a 4-row tile of A; B rows contiguous (packed first when they are not). */
function ikjTile(
  A: NumArray,
  aOff: number,
  asM: number,
  asK: number,
  B: NumArray,
  bOff: number,
  bsK: number,
  bsN: number,
  C: NumArray,
  cOff: number,
  M: number,
  N: number,
  K: number,
  acc: Float64Array,
): void {
  let Bm: NumArray = B;
  let bBase = bOff;
  let ldb = bsK;
  if (bsN !== 1 && N > 1) {
    if (packScratch.length < K * N) packScratch = new Float32Array(K * N);
    for (let k = 0; k < K; k++)
      for (let j = 0; j < N; j++) packScratch[k * N + j] = B[bOff + k * bsK + j * bsN];
    Bm = packScratch;
    bBase = 0;
    ldb = N;
  }
  for (let i0 = 0; i0 < M; i0 += 4) {
    const rows = Math.min(4, M - i0);
    acc.fill(0, 0, 4 * N);
    const a0 = aOff + i0 * asM;
    for (let k = 0; k < K; k++) {
      const bRow = bBase + k * ldb;
      const ak = a0 + k * asK;
      if (rows === 4) {
        const x0 = A[ak];
        const x1 = A[ak + asM];
        const x2 = A[ak + 2 * asM];
        const x3 = A[ak + 3 * asM];
        for (let j = 0; j < N; j++) {
          const b = Bm[bRow + j];
          acc[j] += x0 * b;
          acc[N + j] += x1 * b;
          acc[2 * N + j] += x2 * b;
          acc[3 * N + j] += x3 * b;
        }
      } else {
        for (let t = 0; t < rows; t++) {
          const x = A[ak + t * asM];
          const base = t * N;
          for (let j = 0; j < N; j++) acc[base + j] += x * Bm[bRow + j];
        }
      }
    }
    for (let t = 0; t < rows; t++) {
      const dst = cOff + (i0 + t) * N;
      for (let j = 0; j < N; j++) C[dst + j] = acc[t * N + j];
    }
  }
}

/**
 * Copies `rows` rows (element stride sRow) of K values (stride sCol) into 4-row panels laid out
 * k-major: out[p * K + k * 4 + t] = row p + t at k, zero-padded to a multiple of 4 rows.
 */
function packPanels(
  src: NumArray,
  off: number,
  sRow: number,
  sCol: number,
  rows: number,
  K: number,
  out: Float32Array,
): void {
  const R4 = Math.ceil(rows / 4) * 4;
  for (let p = 0; p < R4; p += 4) {
    const base = p * K;
    for (let t = 0; t < 4; t++) {
      const r = p + t;
      if (r < rows) {
        const s = off + r * sRow;
        for (let k = 0; k < K; k++) out[base + k * 4 + t] = src[s + k * sCol];
      } else for (let k = 0; k < K; k++) out[base + k * 4 + t] = 0;
    }
  }
}

/**
 * Packed 4x4 register tile: A and B^T are packed into k-major 4-row panels (any input strides,
 * so transposed operands cost one O((M + N) K) pass), then each 4x4 block of C keeps its sixteen
 * sums in locals for the whole K loop: 8 loads per 16 multiply-adds instead of i-k-j's 9 memory
 * operations per 4.
 */
function tiled(
  A: NumArray,
  aOff: number,
  asM: number,
  asK: number,
  B: NumArray,
  bOff: number,
  bsK: number,
  bsN: number,
  C: NumArray,
  cOff: number,
  M: number,
  N: number,
  K: number,
): void {
  const M4 = Math.ceil(M / 4) * 4;
  const N4 = Math.ceil(N / 4) * 4;
  if (panelA.length < M4 * K) panelA = new Float32Array(M4 * K);
  if (panelB.length < N4 * K) panelB = new Float32Array(N4 * K);
  const PA = panelA;
  const PB = panelB;
  packPanels(A, aOff, asM, asK, M, K, PA);
  packPanels(B, bOff, bsN, bsK, N, K, PB);
  for (let ib = 0; ib < M4; ib += 4) {
    const ap = ib * K;
    for (let jb = 0; jb < N4; jb += 4) {
      const bp = jb * K;
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0;
      let c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0;
      let c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let k = 0; k < K; k++) {
        const a = ap + k * 4;
        const b = bp + k * 4;
        const a0 = PA[a];
        const a1 = PA[a + 1];
        const a2 = PA[a + 2];
        const a3 = PA[a + 3];
        const b0 = PB[b];
        const b1 = PB[b + 1];
        const b2 = PB[b + 2];
        const b3 = PB[b + 3];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const rows = Math.min(4, M - ib);
      const cols = Math.min(4, N - jb);
      const o = cOff + ib * N + jb;
      if (rows === 4 && cols === 4) {
        C[o] = c00;
        C[o + 1] = c01;
        C[o + 2] = c02;
        C[o + 3] = c03;
        C[o + N] = c10;
        C[o + N + 1] = c11;
        C[o + N + 2] = c12;
        C[o + N + 3] = c13;
        C[o + 2 * N] = c20;
        C[o + 2 * N + 1] = c21;
        C[o + 2 * N + 2] = c22;
        C[o + 2 * N + 3] = c23;
        C[o + 3 * N] = c30;
        C[o + 3 * N + 1] = c31;
        C[o + 3 * N + 2] = c32;
        C[o + 3 * N + 3] = c33;
      } else {
        const tile = [
          c00,
          c01,
          c02,
          c03,
          c10,
          c11,
          c12,
          c13,
          c20,
          c21,
          c22,
          c23,
          c30,
          c31,
          c32,
          c33,
        ];
        for (let t = 0; t < rows; t++)
          for (let u = 0; u < cols; u++) C[o + t * N + u] = tile[t * 4 + u];
      }
    }
  }
}

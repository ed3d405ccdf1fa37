/**
 * Planning row-major matmuls as cuBLAS calls, checked on the CPU: each plan is executed by an
 * independent column-major SGEMM written from the cuBLAS documentation (op(A) is m x k,
 * element (i, l) of A at i + l lda, or l + i lda when transposed) and compared with a plain
 * row-major product of the same views, over transposed, sliced, broadcast and batched layouts.
 */
import { describe, expect, it } from 'vitest';
import { type GemmCall, type MatrixOperand, operandLayout, planGemm } from './gemm-plan.js';

/** cublasSgemmStridedBatched semantics (alpha 1, beta 0) on arrays indexed by element. */
function columnMajorGemm(c: GemmCall, A: Float64Array, B: Float64Array, C: Float64Array): void {
  for (let b = 0; b < c.batch; b++) {
    for (let j = 0; j < c.n; j++) {
      for (let i = 0; i < c.m; i++) {
        let acc = 0;
        for (let l = 0; l < c.k; l++) {
          const x = A[c.aOffset + b * c.strideA + (c.transa ? l + i * c.lda : i + l * c.lda)]!;
          const y = B[c.bOffset + b * c.strideB + (c.transb ? j + l * c.ldb : l + j * c.ldb)]!;
          acc += x * y;
        }
        C[c.cOffset + b * c.strideC + i + j * c.ldc] = acc;
      }
    }
  }
}

const at = (v: MatrixOperand, idx: number[]) =>
  v.offset + idx.reduce((s, x, d) => s + x * v.strides[d]!, 0);

function check(
  a: MatrixOperand,
  b: MatrixOperand,
  batch: number[],
  M: number,
  N: number,
  K: number,
) {
  const outShape = [...batch, M, N];
  const outStrides: number[] = [];
  let s = 1;
  for (let i = outShape.length - 1; i >= 0; i--) {
    outStrides.unshift(s);
    s *= outShape[i]!;
  }
  const out: MatrixOperand = { shape: outShape, strides: outStrides, offset: 3 };
  const plan = planGemm(a, b, out);
  if ('needsCopy' in plan) return plan.needsCopy;
  const store = Float64Array.from({ length: 4000 }, (_, i) => Math.sin(i * 1.7) + (i % 7));
  const C = new Float64Array(3 + s);
  for (const call of plan.calls) columnMajorGemm(call, store, store, C);
  const nb = batch.reduce((p, q) => p * q, 1);
  for (let bi = 0; bi < nb; bi++) {
    const idx: number[] = [];
    let rest = bi;
    for (let d = batch.length - 1; d >= 0; d--) {
      idx.unshift(rest % batch[d]!);
      rest = Math.floor(rest / batch[d]!);
    }
    const bIdx = (v: MatrixOperand) => idx.map((x, d) => (v.shape[d] === 1 ? 0 : x));
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let want = 0;
        for (let k = 0; k < K; k++)
          want += store[at(a, [...bIdx(a), m, k])]! * store[at(b, [...bIdx(b), k, n])]!;
        expect(C[at(out, [...idx, m, n])]).toBeCloseTo(want, 9);
      }
  }
  return plan.calls.length;
}

describe('cuBLAS planning', () => {
  it('operandLayout: a unit-stride axis is read in place; length-1 axes are free', () => {
    expect(operandLayout(4, 5, 5, 1)).toEqual({ trans: false, ld: 5 });
    expect(operandLayout(4, 5, 1, 4)).toEqual({ trans: true, ld: 4 });
    expect(operandLayout(4, 5, 10, 2)).toBeNull();
    expect(operandLayout(1, 5, 999, 1)).toEqual({ trans: false, ld: 5 });
    expect(operandLayout(4, 1, 7, 0)).toEqual({ trans: false, ld: 7 });
    expect(operandLayout(4, 5, 3, 1)).toBeNull(); // rows overlap: ld 3 < 5 columns
  });

  it('contiguous, transposed and strided-row operands give the row-major product', () => {
    // a [3, 4] contiguous at 10; b [4, 5] as the transpose of a [5, 4] at 100
    expect(
      check(
        { shape: [3, 4], strides: [4, 1], offset: 10 },
        { shape: [4, 5], strides: [1, 4], offset: 100 },
        [],
        3,
        5,
        4,
      ),
    ).toBe(1);
    // a = transpose of [4, 3]; b rows 9 apart (a slice of a wider matrix)
    expect(
      check(
        { shape: [3, 4], strides: [1, 3], offset: 0 },
        { shape: [4, 5], strides: [9, 1], offset: 50 },
        [],
        3,
        5,
        4,
      ),
    ).toBe(1);
  });

  it('batches: one strided-batched call per outer index; broadcast batches have stride 0', () => {
    // [2, 3] batch, a broadcast over the first axis, b over the second
    const calls = check(
      { shape: [1, 3, 2, 4], strides: [0, 8, 4, 1], offset: 1 },
      { shape: [2, 1, 4, 3], strides: [12, 0, 3, 1], offset: 200 },
      [2, 3],
      2,
      3,
      4,
    );
    expect(calls).toBe(2);
    // mergeable batch axes: one call
    expect(
      check(
        { shape: [2, 3, 2, 4], strides: [24, 8, 4, 1], offset: 0 },
        { shape: [2, 3, 4, 2], strides: [24, 8, 2, 1], offset: 300 },
        [2, 3],
        2,
        2,
        4,
      ),
    ).toBe(1);
  });

  it('an operand with no unit-stride axis asks for a copy', () => {
    expect(
      check(
        { shape: [3, 4], strides: [8, 2], offset: 0 },
        { shape: [4, 5], strides: [5, 1], offset: 0 },
        [],
        3,
        5,
        4,
      ),
    ).toEqual(['a']);
  });
});

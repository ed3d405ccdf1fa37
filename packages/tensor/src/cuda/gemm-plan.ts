/**
 * Planning row-major batched matmuls as cuBLAS calls (pure functions, tested on the CPU).
 *
 * cuBLAS is column-major: a row-major C [M, N] is the column-major C^T [N, M], and
 * C = A B  <=>  C^T = B^T A^T, so each product becomes one `gemm(m = N, n = M, k = K)` with B as
 * the first operand and A as the second. A row-major operand [rows, cols] with strides
 * (sRow, sCol) is read in place when one of its axes is unit-stride: sCol = 1 is the column-major
 * transpose with ld = sRow (op N); sRow = 1 is a column-major [rows, cols] with ld = sCol (op T).
 * Other layouts are copied to contiguous first. Batch axes merge where the strides allow; one
 * strided-batched call covers the innermost merged batch axis (stride 0 broadcasts).
 */

/** How cuBLAS reads one operand: `trans` (op T) and the leading dimension. */
export interface OperandLayout {
  trans: boolean;
  ld: number;
}

/**
 * The layout of a row-major [rows, cols] matrix with strides (sRow, sCol) as cuBLAS's operand for
 * the transposed product, or null when neither axis is unit-stride (copy it first). The stride of
 * an axis of length 1 is free: it never moves.
 */
export function operandLayout(
  rows: number,
  cols: number,
  sRow: number,
  sCol: number,
): OperandLayout | null {
  const colUnit = cols === 1 || sCol === 1;
  const rowUnit = rows === 1 || sRow === 1;
  if (colUnit) {
    const ld = rows === 1 ? Math.max(1, cols) : sRow;
    if (ld >= Math.max(1, cols)) return { trans: false, ld };
  }
  if (rowUnit) {
    const ld = cols === 1 ? Math.max(1, rows) : sCol;
    if (ld >= Math.max(1, rows)) return { trans: true, ld };
  }
  return null;
}

/** One cublasSgemmStridedBatched call (column-major arguments, element offsets). */
export interface GemmCall {
  transa: boolean;
  transb: boolean;
  m: number;
  n: number;
  k: number;
  /** First operand (row-major B), its ld and batch stride, element offset. */
  aOffset: number;
  lda: number;
  strideA: number;
  /** Second operand (row-major A). */
  bOffset: number;
  ldb: number;
  strideB: number;
  cOffset: number;
  ldc: number;
  strideC: number;
  batch: number;
}

export interface MatrixOperand {
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

/** Merges batch axes where every operand's strides allow (size-1 axes dropped). */
export function mergeBatch(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let q = 0; q < strides.length && merge; q++) merge = st[q]![last] === strides[q]![i]! * d;
    if (merge) {
      dims[last]! *= d;
      for (let q = 0; q < strides.length; q++) st[q]![last] = strides[q]![i]!;
    } else {
      dims.push(d);
      for (let q = 0; q < strides.length; q++) st[q]!.push(strides[q]![i]!);
    }
  }
  return { shape: dims, strides: st };
}

/**
 * The cuBLAS calls of out = a x b (a [...batch, M, K], b [...batch, K, N] broadcast to out's
 * batch, out contiguous [...batch, M, N]), or null when an operand needs a contiguous copy
 * first (`needsCopy` says which).
 */
export function planGemm(
  a: MatrixOperand,
  b: MatrixOperand,
  out: MatrixOperand,
): { calls: GemmCall[] } | { needsCopy: ('a' | 'b')[] } {
  const r = out.shape.length;
  const M = out.shape[r - 2]!;
  const N = out.shape[r - 1]!;
  const K = a.shape[r - 1]!;
  const la = operandLayout(M, K, a.strides[r - 2]!, a.strides[r - 1]!);
  const lb = operandLayout(K, N, b.strides[r - 2]!, b.strides[r - 1]!);
  if (!la || !lb) {
    const needsCopy: ('a' | 'b')[] = [];
    if (!la) needsCopy.push('a');
    if (!lb) needsCopy.push('b');
    return { needsCopy };
  }
  const batchShape = out.shape.slice(0, r - 2);
  const merged = mergeBatch(batchShape, [
    a.strides.slice(0, r - 2),
    b.strides.slice(0, r - 2),
    out.strides.slice(0, r - 2),
  ]);
  const dims = merged.shape;
  const [sa, sb, sc] = merged.strides as [number[], number[], number[]];
  const inner = dims.length ? dims[dims.length - 1]! : 1;
  const outerDims = dims.slice(0, -1);
  const outer = outerDims.reduce((p, q) => p * q, 1);
  const calls: GemmCall[] = [];
  for (let o = 0; o < outer; o++) {
    let ao = a.offset;
    let bo = b.offset;
    let co = out.offset;
    let rest = o;
    for (let d = outerDims.length - 1; d >= 0; d--) {
      const c = rest % outerDims[d]!;
      rest = Math.floor(rest / outerDims[d]!);
      ao += c * sa[d]!;
      bo += c * sb[d]!;
      co += c * sc[d]!;
    }
    const last = dims.length - 1;
    calls.push({
      transa: lb.trans,
      transb: la.trans,
      m: N,
      n: M,
      k: K,
      aOffset: bo,
      lda: lb.ld,
      strideA: last >= 0 ? sb[last]! : 0,
      bOffset: ao,
      ldb: la.ld,
      strideB: last >= 0 ? sa[last]! : 0,
      cOffset: co,
      ldc: Math.max(1, N),
      strideC: last >= 0 ? sc[last]! : M * N,
      batch: inner,
    });
  }
  return { calls };
}

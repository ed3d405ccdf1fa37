/**
 * The one loop nest behind every elementwise CPU kernel. Dimensions that are contiguous for
 * every operand are merged, so a contiguous or scalar-broadcast op runs as a single row; the
 * row callback then runs a tight loop with fixed strides (one call per row, never per element).
 */
import type { Shape } from '../shape.js';

export type RowFn = (offsets: Int32Array, innerStrides: Int32Array, n: number) => void;

/** Visits `shape` row by row for operands with the given element strides and offsets. */
export function forEachRow(
  shape: Shape,
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  row: RowFn,
): void {
  const k = strides.length;
  // Fast path: every operand contiguous over `shape` (or a broadcast scalar): one row, no
  // bookkeeping allocations.
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  if (n === 0) return;
  if (allFlat(shape, strides)) {
    const offs = OFFS[k] ?? Int32Array.from(offsets);
    const inner = INNER[k] ?? new Int32Array(k);
    for (let q = 0; q < k; q++) {
      offs[q] = offsets[q];
      const st = strides[q];
      inner[q] = st.length === 0 || st.every((x) => x === 0) ? 0 : 1;
    }
    row(offs, inner, n);
    return;
  }
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 0) return;
    if (d === 1) continue;
    const last = dims.length - 1;
    let merge = last >= 0;
    for (let q = 0; q < k && merge; q++) merge = st[q][last] === strides[q][i] * d;
    if (merge) {
      dims[last] *= d;
      for (let q = 0; q < k; q++) st[q][last] = strides[q][i];
    } else {
      dims.push(d);
      for (let q = 0; q < k; q++) st[q].push(strides[q][i]);
    }
  }
  const offs = Int32Array.from(offsets);
  const inner = new Int32Array(k);
  if (dims.length === 0) {
    row(offs, inner, 1);
    return;
  }
  const r = dims.length - 1;
  for (let q = 0; q < k; q++) inner[q] = st[q][r];
  n = dims[r];
  if (r === 0) {
    row(offs, inner, n);
    return;
  }
  // Odometer over the outer dims, keeping every operand's offset up to date incrementally.
  const counter = new Int32Array(r);
  const base = Int32Array.from(offsets);
  for (;;) {
    row(offs, inner, n);
    let ax = r - 1;
    while (ax >= 0) {
      counter[ax]++;
      if (counter[ax] < dims[ax]) break;
      counter[ax] = 0;
      ax--;
    }
    if (ax < 0) return;
    for (let q = 0; q < k; q++) {
      let o = base[q];
      for (let a = 0; a < r; a++) o += counter[a] * st[q][a];
      offs[q] = o;
    }
  }
}

const OFFS = [0, 1, 2, 3, 4].map((k) => new Int32Array(k));
const INNER = [0, 1, 2, 3, 4].map((k) => new Int32Array(k));

/** True when each operand is row-major contiguous over `shape` or all-zero strides. */
function allFlat(shape: Shape, strides: readonly (readonly number[])[]): boolean {
  for (const st of strides) {
    let zero = true;
    let contiguous = true;
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (st[i] !== 0) zero = false;
      if (shape[i] !== 1 && st[i] !== s) contiguous = false;
      s *= shape[i];
    }
    if (!zero && !contiguous) return false;
  }
  return true;
}

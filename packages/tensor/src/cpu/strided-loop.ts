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
  const n = dims[r];
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

/**
 * Operands of blockwise attention: the broadcast batch of q, k, v, each head's matrix offset and
 * row stride (so a gemm with leading dimensions reads strided heads in place), and fresh outputs
 * laid out so that the model's permute back to [B, T, C] is a free view.
 */
import type { BlasProvider } from '../cpu-blas/provider.js';
import { Tensor } from '../tensor.js';
import type { CpuBackend } from './cpu-backend.js';

/**
 * The broadcast batch shape of q [..., T, d], k [..., S, d], v [..., S, dv] (same rank, every
 * batch axis equal or 1), or undefined (different ranks, an empty tensor, non-float32).
 */
export function batchShape(q: Tensor, k: Tensor, v: Tensor): number[] | undefined {
  const r = q.rank;
  if (r < 2 || k.rank !== r || v.rank !== r) return undefined;
  if (!(q.size > 0 && k.size > 0 && v.size > 0 && q.dtype === 'float32')) return undefined;
  const out: number[] = [];
  for (let i = 0; i < r - 2; i++) {
    const n = Math.max(q.shape[i]!, k.shape[i]!, v.shape[i]!);
    for (const t of [q, k, v]) if (t.shape[i] !== n && t.shape[i] !== 1) return undefined;
    out.push(n);
  }
  return out;
}

/**
 * A gemm that takes offsets and leading dimensions (the BLAS provider's `sgemm`): with one, the
 * routine reads heads in place from strided views (q, k, v sliced out of a fused qkv and
 * permuted to [B, H, T, D]: rows 3C apart) and writes the output and gradients in the
 * [B, T, H, D] order that the model's permute back to [B, T, C] turns into a free view.
 */
export type LdGemm = NonNullable<BlasProvider['sgemm']>;

/** A [..., rows, cols] float32 operand: backing array, each head's element offset, row stride. */
export interface Operand {
  t: Tensor;
  data: Float32Array;
  heads: Int32Array;
  ld: number;
}

/** Element offset of each broadcast head's [rows, cols] matrix of `t` (from its strides). */
export function headOffsets(t: Tensor, batch: number[]): Int32Array {
  const r = t.rank;
  const heads = batch.reduce((a, b) => a * b, 1);
  const out = new Int32Array(heads);
  for (let h = 0; h < heads; h++) {
    let rest = h;
    let o = t.offset;
    for (let d = r - 3; d >= 0; d--) {
      const i = rest % batch[d]!;
      rest = Math.floor(rest / batch[d]!);
      if (t.shape[d] !== 1) o += i * t.strides[d]!;
    }
    out[h] = o;
  }
  return out;
}

/** Row stride of `t`'s last two axes when its rows are unit-stride (BLAS can read it), else 0. */
export function rowStride(t: Tensor): number {
  const r = t.rank;
  const rows = t.shape[r - 2]!;
  const cols = t.shape[r - 1]!;
  if (t.strides.some((s) => s < 0)) return 0;
  if (cols !== 1 && t.strides[r - 1] !== 1) return 0;
  const ld = rows === 1 ? cols : t.strides[r - 2]!;
  return ld >= cols ? ld : 0;
}

/**
 * A fresh [..., rows, cols] tensor. With `heads` (an input whose batch axis just above the rows
 * is inner to them, e.g. [B, H, T, D] permuted from [B, T, H, D]) and strided gemms, stored in
 * that order too, so the model's inverse permute yields a contiguous tensor.
 */
export function fresh(
  backend: Tensor['backend'],
  shape: number[],
  like: Tensor | undefined,
): Tensor {
  const r = shape.length;
  const swap =
    like !== undefined &&
    r >= 3 &&
    shape[r - 3]! > 1 &&
    shape[r - 2]! > 1 &&
    like.shape[r - 3] === shape[r - 3] &&
    like.strides[r - 3]! < like.strides[r - 2]!;
  if (!swap) return Tensor.empty(backend, shape, 'float32', 'sdpa');
  const phys = shape.slice();
  [phys[r - 3], phys[r - 2]] = [shape[r - 2]!, shape[r - 3]!];
  const p = Tensor.empty(backend, phys, 'float32', 'sdpa');
  const st = p.strides.slice();
  [st[r - 3], st[r - 2]] = [st[r - 2]!, st[r - 3]!];
  const view = p.viewAs(shape, st, 0, 'sdpa');
  p.dispose();
  return view;
}

/** Zero-filled `fresh` (every element of its storage is one of its elements). */
export function freshZeros(
  backend: Tensor['backend'],
  shape: number[],
  like: Tensor | undefined,
): Tensor {
  const t = fresh(backend, shape, like);
  (backend as CpuBackend).array(t.view()).fill(0, 0, t.size);
  return t;
}

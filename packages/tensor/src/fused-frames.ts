/**
 * Backend-neutral frames of fused routines: the tensor plumbing (dense inputs, outputs, what is
 * saved for backward, which gradients exist) around the row kernels a backend supplies (plain
 * TypeScript loops on the CPU, WGSL on WebGPU), so every backend computes the same gradients
 * from the same saved values and only the per-row arithmetic differs.
 */
import { sumTo } from './ops/sum-to.js';
import type { AttentionAttrs, NormAttrs, Routine } from './routine.js';
import { Tensor } from './tensor.js';

/** `t` itself when contiguous (a new alias, so callers dispose uniformly), else a copy. */
export function dense(t: Tensor): Tensor {
  return t.isContiguous ? t.alias() : t.contiguous();
}

/** The two row passes of attention that keeps its probabilities P. */
export interface AttentionRowKernels {
  /**
   * In place over the fresh, contiguous scores `p` [..., T, S] (T = S = 0 allowed): each row
   * scaled by `scale`, masked when `causal` (key j is visible to query i when j <= i, top-left
   * aligned, as the composition's mask; masked entries become 0) and softmaxed.
   */
  softmax(p: Tensor, causal: boolean, scale: number): void;
  /** In place over the contiguous `ds` = dP: dS = scale * P (dP - rowsum(dP P)). */
  softmaxBackward(ds: Tensor, p: Tensor, scale: number): void;
}

/**
 * Scaled dot-product attention as four `matmul`s around `kernels`' fused softmax passes: P
 * [..., T, S] is kept for backward (as in the composition), with q, k, v saved only where a
 * gradient needs them; batch axes broadcast (gradients summed back to the input shapes).
 */
export function materializedAttentionRoutine(
  kernels: AttentionRowKernels,
): Routine<AttentionAttrs> {
  return {
    forward([q, k, v], { causal, scale }, ctx) {
      const p = q!.matmul(k!.mT); // fresh, contiguous [..., T, S]: softmax in place
      kernels.softmax(p, causal, scale);
      const out = p.matmul(v!);
      const need = ctx.needsGrad;
      ctx.save(
        need[1] ? q : undefined,
        need[0] ? k : undefined,
        need[0] || need[1] ? v : undefined,
        p,
      );
      p.dispose();
      return out;
    },
    backward(g, ctx) {
      const [q, k, v, p] = ctx.saved as [Tensor, Tensor, Tensor, Tensor];
      const { scale } = ctx.attrs;
      const need = ctx.needsGrad;
      const dv = need[2] ? sumTo(p.mT.matmul(g), ctx.inputShapes[2]!) : null;
      let dq: Tensor | null = null;
      let dk: Tensor | null = null;
      if (need[0] || need[1]) {
        // dS in place over dP = g v^T (masked entries: P = 0).
        const ds = g.matmul(v.mT);
        kernels.softmaxBackward(ds, p, scale);
        if (need[0]) dq = sumTo(ds.matmul(k), ctx.inputShapes[0]!);
        if (need[1]) dk = sumTo(ds.mT.matmul(q), ctx.inputShapes[1]!);
        ds.dispose();
      }
      return [dq, dk, dv];
    },
  };
}

/** Operands of a normalization's forward pass: contiguous float32, `rows` rows of `C`. */
export interface NormForward {
  x: Tensor;
  w: Tensor | undefined;
  b: Tensor | undefined;
  /** Output [..., C]. */
  y: Tensor;
  /** Output [rows, 2]: each row's mean (0 for RMSNorm) and 1/std. */
  stats: Tensor;
  rows: number;
  C: number;
  eps: number;
}

/** Operands of a normalization's backward pass; only the wanted gradients are given. */
export interface NormBackward {
  x: Tensor;
  w: Tensor | undefined;
  /** The incoming gradient, contiguous. */
  g: Tensor;
  stats: Tensor;
  rows: number;
  C: number;
  /** dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = g w (mean(dxhat) 0 for RMSNorm). */
  dx: Tensor | undefined;
  /** dw = sum over rows of g xhat. */
  dw: Tensor | undefined;
  /** db = sum over rows of g. */
  db: Tensor | undefined;
}

/** A normalization's row kernels (LayerNorm or RMSNorm over the last axis). */
export interface NormKernels {
  forward(args: NormForward): void;
  backward(args: NormBackward): void;
}

/**
 * LayerNorm / RMSNorm over the last axis with optional weight and bias (attrs `hasWeight`,
 * `hasBias`) around `kernels`: saves x, the weight and the per-row stats; outputs and gradients
 * are named `${name}`, `${name}-stats`, `${name}-dx`, `${name}-dw`, `${name}-db`.
 */
export function normRoutineFrame(name: string, kernels: NormKernels): Routine<NormAttrs> {
  return {
    forward(inputs, attrs, ctx) {
      const x = dense(inputs[0]!);
      const w = attrs.hasWeight ? dense(inputs[1]!) : undefined;
      const b = attrs.hasBias ? dense(inputs[2]!) : undefined;
      const C = x.shape[x.rank - 1]!;
      const rows = C === 0 ? 0 : x.size / C;
      const y = Tensor.empty(x.backend, x.shape, 'float32', name);
      const stats = Tensor.empty(x.backend, [rows, 2], 'float32', `${name}-stats`);
      kernels.forward({ x, w, b, y, stats, rows, C, eps: attrs.eps });
      ctx.save(x, w, stats);
      for (const t of [x, w, b, stats]) t?.dispose();
      return y;
    },
    backward(grad, ctx) {
      const [x, w, stats] = ctx.saved as [Tensor, Tensor | undefined, Tensor];
      const attrs = ctx.attrs;
      const g = dense(grad);
      const C = x.shape[x.rank - 1]!;
      const rows = C === 0 ? 0 : x.size / C;
      const vector = (want: boolean | undefined, suffix: string) =>
        want ? Tensor.empty(x.backend, [C], 'float32', `${name}-${suffix}`) : undefined;
      const dx = ctx.needsGrad[0]
        ? Tensor.empty(x.backend, x.shape, 'float32', `${name}-dx`)
        : undefined;
      const dw = vector(attrs.hasWeight && ctx.needsGrad[1], 'dw');
      const db = vector(attrs.hasBias && ctx.needsGrad[2], 'db');
      kernels.backward({ x, w, g, stats, rows, C, dx, dw, db });
      g.dispose();
      const out: (Tensor | null)[] = [dx ?? null];
      if (attrs.hasWeight) out.push(dw ?? null);
      if (attrs.hasBias) out.push(db ?? null);
      return out;
    },
  };
}

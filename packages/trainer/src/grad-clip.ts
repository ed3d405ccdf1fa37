import { concat, noGrad, type Tensor, tidy } from '@lrw/tensor';

/**
 * Each gradient's sum of squares, reduced on the backend (float32, one number per parameter
 * with a gradient, in parameter order), gathered into one (P) tensor so the host reads it once.
 * Undefined when no parameter has a gradient.
 */
function squareSums(params: readonly Tensor[]): Tensor | undefined {
  const grads = params.flatMap((p) => (p.grad ? [p.grad] : []));
  if (grads.length === 0) return undefined;
  return noGrad(() => tidy(() => concat(grads.map((g) => g.square().sum().reshape([1])))));
}

/** sqrt of the float64 sum, in parameter order, of the per-parameter float32 sums of squares. */
function normOf(sums: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < sums.length; i++) total += sums[i]!;
  return Math.sqrt(total);
}

/**
 * Global L2 norm of the gradients of `params` (missing gradients count as zero). Each
 * parameter's sum of squares is reduced on the backend and the host reads all of them at once;
 * the total is summed in float64 in parameter order, so the result is deterministic.
 * Synchronous: host-memory backends only (`cpu`, `cpu-reference`); use `globalGradNormAsync`
 * on any backend (WebGPU).
 */
export function globalGradNorm(params: readonly Tensor[]): number {
  const sums = squareSums(params);
  if (!sums) return 0;
  try {
    return normOf(sums.dataSync());
  } finally {
    sums.dispose();
  }
}

/** `globalGradNorm` on any backend (one asynchronous read; the same value). */
export async function globalGradNormAsync(params: readonly Tensor[]): Promise<number> {
  const sums = squareSums(params);
  if (!sums) return 0;
  try {
    return normOf(await sums.data());
  } finally {
    sums.dispose();
  }
}

/** Scales every gradient by maxNorm / (norm + 1e-6) when that is below 1 (no read). */
function scaleGradients(params: readonly Tensor[], maxNorm: number, n: number): number {
  if (!Number.isFinite(n)) return n;
  const coef = maxNorm / (n + 1e-6);
  if (coef < 1) {
    noGrad(() => {
      for (const p of params) p.grad?.mul_(coef);
    });
  }
  return n;
}

/**
 * torch.nn.utils.clip_grad_norm_: when the global norm exceeds `maxNorm`, scales every gradient
 * by maxNorm / (norm + 1e-6). Returns the norm before clipping. A non-finite norm leaves the
 * gradients alone (the caller skips the update). With `norm` given nothing is read, so it works
 * on any backend; without it the norm is read synchronously (`clipGradNormAsync` on a GPU).
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, norm?: number): number {
  return scaleGradients(params, maxNorm, norm ?? globalGradNorm(params));
}

/** `clipGradNorm` on any backend: the norm (when not given) comes from one asynchronous read. */
export async function clipGradNormAsync(
  params: readonly Tensor[],
  maxNorm: number,
  norm?: number,
): Promise<number> {
  return scaleGradients(params, maxNorm, norm ?? (await globalGradNormAsync(params)));
}

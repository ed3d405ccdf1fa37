import { noGrad, type Tensor, tidy } from '@lrw/tensor';

/**
 * Global L2 norm of the gradients of `params` (missing gradients count as zero). Each
 * parameter's sum of squares is reduced on the backend; the total is summed in float64 in
 * parameter order, so the result is deterministic.
 */
export function globalGradNorm(params: readonly Tensor[]): number {
  let total = 0;
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    total += tidy(() => g.square().sum().itemSync());
  }
  return Math.sqrt(total);
}

/**
 * torch.nn.utils.clip_grad_norm_: when the global norm exceeds `maxNorm`, scales every gradient
 * by maxNorm / (norm + 1e-6). Returns the norm before clipping. A non-finite norm leaves the
 * gradients alone (the caller skips the update).
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number, norm?: number): number {
  const n = norm ?? globalGradNorm(params);
  if (!Number.isFinite(n)) return n;
  const coef = maxNorm / (n + 1e-6);
  if (coef < 1) {
    noGrad(() => {
      for (const p of params) p.grad?.mul_(coef);
    });
  }
  return n;
}

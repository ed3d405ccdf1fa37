/**
 * Neural-network ops composed from primitives: softmax, log-softmax, cross-entropy per token,
 * layer/RMS normalization, GELU (tanh), SiLU, dropout and causal scaled-dot-product attention.
 * Each is a `composite` op-table entry, so a backend may register a fused routine of the same name
 * (the fused CPU routines, the WGSL ones) and every other backend gets the composition. Their
 * attributes are the routines' (`RoutineAttrs` in routine.ts).
 */
import { noGrad, tidy } from '../engine.js';
import { defineOp } from '../op-table.js';
import type { Generator } from '../philox.js';
import type {
  AttentionAttrs,
  CrossEntropyAttrs,
  DropoutAttrs,
  NoAttrs,
  NormAttrs,
  SoftmaxAttrs,
} from '../routine.js';
import { formatShape, normalizeAxis, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { where } from './elementwise.js';
import { arangeLike, uniformLike } from './fill.js';
import { takeAlongLastAxis } from './indexing.js';
import { streamStart } from './random-stream.js';

const SOFT_TOL = { rtol: 1e-5, atol: 1e-6 };

const softmaxOp = defineOp<SoftmaxAttrs>({
  name: 'softmax',
  kind: 'composite',
  doc: 'exp(x - max) / sum(exp(x - max)) along one axis',
  differentiable: true,
  tolerance: SOFT_TOL,
  forward: ([x], { axis }) =>
    tidy(() => {
      const m = noGrad(() => x.max(axis, true));
      const e = x.sub(m).exp();
      return e.div(e.sum(axis, true));
    }),
});

const logSoftmaxOp = defineOp<SoftmaxAttrs>({
  name: 'logSoftmax',
  kind: 'composite',
  doc: 'x - logsumexp(x) along one axis',
  differentiable: true,
  tolerance: SOFT_TOL,
  forward: ([x], { axis }) =>
    tidy(() => {
      const m = noGrad(() => x.max(axis, true));
      const z = x.sub(m);
      return z.sub(z.exp().sum(axis, true).log());
    }),
});

export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp([x], { axis: normalizeAxis(axis, x.rank, 'softmax') });
}
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return logSoftmaxOp([x], { axis: normalizeAxis(axis, x.rank, 'logSoftmax') });
}

export interface CrossEntropyOptions {
  /** Targets equal to this are ignored (loss 0). Default -100, as in PyTorch. */
  ignoreIndex?: number;
  /** Float mask of the targets' shape; tokens where it is 0 are ignored (loss 0). */
  mask?: Tensor;
}

const crossEntropyOp = defineOp<CrossEntropyAttrs>({
  name: 'crossEntropy',
  kind: 'composite',
  doc: 'per-token -log softmax(logits)[target], 0 where ignored',
  differentiable: true,
  tolerance: SOFT_TOL,
  forward: ([logits, targets, mask], { ignoreIndex, hasMask }) =>
    tidy(() => {
      let active = targets.ne(ignoreIndex);
      if (hasMask) active = active.mul(mask.ne(0));
      const safe = where(active, targets, 0);
      const picked = takeAlongLastAxis(logSoftmax(logits), safe);
      // where, not multiply: an ignored token must give exactly 0 even if its logit row is -inf.
      return where(active, picked.neg(), 0);
    }),
});

/**
 * Cross-entropy per token: `logits [..., V]`, int32 `targets [...]` -> losses `[...]`, 0 at ignored
 * tokens (target == ignoreIndex, or mask == 0). Reduce it yourself (per sample, masked mean, ...).
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  if (!shapesEqual(logits.shape.slice(0, -1), targets.shape)) {
    throw new RangeError(
      `crossEntropy: targets ${formatShape(targets.shape)} must match logits ${formatShape(logits.shape)} without the vocabulary axis`,
    );
  }
  if (options.mask && !shapesEqual(options.mask.shape, targets.shape)) {
    throw new RangeError(
      `crossEntropy: mask ${formatShape(options.mask.shape)} must match targets ${formatShape(targets.shape)}`,
    );
  }
  const inputs = options.mask ? [logits, targets, options.mask] : [logits, targets];
  return crossEntropyOp(inputs, {
    ignoreIndex: options.ignoreIndex ?? -100,
    hasMask: !!options.mask,
  });
}

const linearCrossEntropyOp = defineOp<CrossEntropyAttrs>({
  name: 'linearCrossEntropy',
  kind: 'composite',
  doc: 'per-token cross-entropy of x W^T (the vocabulary head), fusable without a [.., V] buffer',
  differentiable: true,
  tolerance: { rtol: 1e-5, atol: 1e-5 },
  forward: ([x, weight, targets, mask], { ignoreIndex, hasMask }) =>
    tidy(() =>
      crossEntropy(x.matmul(weight.mT), targets, { ignoreIndex, mask: hasMask ? mask : undefined }),
    ),
});

/**
 * `crossEntropy(x.matmul(weight.mT), targets)`: `x [..., C]`, `weight [V, C]` (a tied embedding
 * or the LM head), int32 `targets [...]` -> per-token losses `[...]`. A backend may fuse it
 * (routine 'linearCrossEntropy') so the logits are never materialized.
 */
export function linearCrossEntropy(
  x: Tensor,
  weight: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  if (weight.rank !== 2 || weight.shape[1] !== x.shape[x.rank - 1]) {
    throw new RangeError(
      `linearCrossEntropy: weight ${formatShape(weight.shape)} must be [V, ${x.shape[x.rank - 1]}] for x ${formatShape(x.shape)}`,
    );
  }
  if (!shapesEqual(x.shape.slice(0, -1), targets.shape)) {
    throw new RangeError(
      `linearCrossEntropy: targets ${formatShape(targets.shape)} must match x ${formatShape(x.shape)} without its last axis`,
    );
  }
  const inputs = options.mask ? [x, weight, targets, options.mask] : [x, weight, targets];
  return linearCrossEntropyOp(inputs, {
    ignoreIndex: options.ignoreIndex ?? -100,
    hasMask: !!options.mask,
  });
}

const layerNormOp = defineOp<NormAttrs>({
  name: 'layerNorm',
  kind: 'composite',
  doc: '(x - mean) / sqrt(var + eps) * weight + bias over the last axis (biased variance)',
  differentiable: true,
  tolerance: { rtol: 1e-4, atol: 1e-5 },
  forward: ([x, w, b], { eps, hasWeight, hasBias }) =>
    tidy(() => {
      const xc = x.sub(x.mean(-1, true));
      let y = xc.mul(xc.square().mean(-1, true).add(eps).rsqrt());
      if (hasWeight) y = y.mul(w);
      if (hasBias) y = y.add(b);
      return y;
    }),
});

function checkParam(p: Tensor | undefined, x: Tensor, name: string, where: string): void {
  if (p && (p.rank !== 1 || p.shape[0] !== x.shape[x.rank - 1])) {
    throw new RangeError(
      `${where}: ${name} has shape ${formatShape(p.shape)}; expected [${x.shape[x.rank - 1]}] (the last axis of x)`,
    );
  }
}

/** Layer normalization over the last axis (PyTorch's LayerNorm; default eps 1e-5). */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  checkParam(weight, x, 'weight', 'layerNorm');
  checkParam(bias, x, 'bias', 'layerNorm');
  const inputs = [x];
  if (weight) inputs.push(weight);
  if (bias) {
    if (!weight) throw new TypeError('layerNorm: a bias needs a weight; pass ones for the weight');
    inputs.push(bias);
  }
  return layerNormOp(inputs, { eps, hasWeight: !!weight, hasBias: !!bias });
}

const rmsNormOp = defineOp<NormAttrs>({
  name: 'rmsNorm',
  kind: 'composite',
  doc: 'x / sqrt(mean(x^2) + eps) * weight over the last axis',
  differentiable: true,
  tolerance: { rtol: 1e-4, atol: 1e-5 },
  forward: ([x, w], { eps, hasWeight }) =>
    tidy(() => {
      const y = x.mul(x.square().mean(-1, true).add(eps).rsqrt());
      return hasWeight ? y.mul(w) : y;
    }),
});

/** RMS normalization over the last axis (Zhang & Sennrich 2019; Llama's RMSNorm; default eps 1e-6). */
export function rmsNorm(x: Tensor, weight?: Tensor, eps = 1e-6): Tensor {
  checkParam(weight, x, 'weight', 'rmsNorm');
  return rmsNormOp(weight ? [x, weight] : [x], { eps, hasWeight: !!weight, hasBias: false });
}

const GELU_C = Math.sqrt(2 / Math.PI);

const geluOp = defineOp<NoAttrs>({
  name: 'gelu',
  kind: 'composite',
  doc: "GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2's 'gelu_new')",
  differentiable: true,
  tolerance: { rtol: 1e-5, atol: 1e-6 },
  forward: ([x]) =>
    tidy(() => x.mul(x.square().mul(0.044715).add(1).mul(x).mul(GELU_C).tanh().add(1)).mul(0.5)),
});

const siluOp = defineOp<NoAttrs>({
  name: 'silu',
  kind: 'composite',
  doc: 'x * sigmoid(x)',
  differentiable: true,
  tolerance: { rtol: 1e-5, atol: 1e-6 },
  forward: ([x]) => tidy(() => x.mul(x.sigmoid())),
});

export function gelu(x: Tensor): Tensor {
  return geluOp([x], {});
}
export function silu(x: Tensor): Tensor {
  return siluOp([x], {});
}

export interface DropoutOptions {
  /** One-off stream seed (with optional counter `offset`). */
  seed?: number;
  offset?: number;
  /** Generator to draw the mask from (default: the global generator). */
  generator?: Generator;
  /** When false, dropout is the identity (evaluation). Default true. */
  training?: boolean;
}

const dropoutOp = defineOp<DropoutAttrs>({
  name: 'dropout',
  kind: 'composite',
  doc: 'zeroes elements where a Philox uniform < p, scales the rest by 1/(1-p)',
  differentiable: true,
  tolerance: { rtol: 1e-6, atol: 1e-6 },
  forward: ([x], { p, seed, offset }) =>
    tidy(() => {
      const u = uniformLike(x, x.shape, seed, offset);
      return x.mul(u.ge(p).mul(1 / (1 - p)));
    }),
});

/**
 * Inverted dropout with a mask from the seeded Philox stream: the same seed and offset give the
 * same mask on every backend. Element i is kept when uniform_i >= p.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (options.training === false || p === 0) return x.reshape(x.shape);
  const { seed, offset } = streamStart('uniform', x.size, options);
  return dropoutOp([x], { p, seed, offset });
}

export interface AttentionOptions {
  /** Mask keys after each query (top-left aligned, as PyTorch's is_causal). Default true. */
  causal?: boolean;
  /** Score scale; default 1 / sqrt(head size). */
  scale?: number;
}

const sdpaOp = defineOp<AttentionAttrs>({
  name: 'scaledDotProductAttention',
  kind: 'composite',
  doc: 'softmax(q k^T * scale, causal mask) v',
  differentiable: true,
  tolerance: { rtol: 1e-4, atol: 1e-5 },
  forward: ([q, k, v], { causal, scale }) =>
    tidy(() => {
      // q (..., T, D), k (..., S, D), v (..., S, Dv)
      let scores = q.matmul(k.mT).mul(scale); // (..., T, S)
      if (causal) {
        const T = q.shape[q.rank - 2];
        const S = k.shape[k.rank - 2];
        const allowed = arangeLike(q, S)
          .reshape([1, S])
          .le(arangeLike(q, T).reshape([T, 1])); // (T, S)
        scores = where(allowed, scores, Number.NEGATIVE_INFINITY);
      }
      return softmax(scores, -1).matmul(v); // (..., T, Dv)
    }),
});

/** Scaled dot-product attention, `q [..., T, D]`, `k [..., S, D]`, `v [..., S, Dv]` -> `[..., T, Dv]`. */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor {
  const D = q.shape[q.rank - 1];
  if (q.rank < 2 || k.shape[k.rank - 1] !== D || k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new RangeError(
      `scaledDotProductAttention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} need q [..., T, D], k [..., S, D], v [..., S, Dv]`,
    );
  }
  return sdpaOp([q, k, v], {
    causal: options.causal ?? true,
    scale: options.scale ?? 1 / Math.sqrt(D),
  });
}

/**
 * Per-sample language-model loss (spec: shared/spec/reweighting.md section 1).
 * l_i = (sum of token cross-entropies of sample i) / (number of active targets of sample i).
 * A target is active when it is not `ignoreIndex` and its mask entry is non-zero. A sample with
 * no active target gets loss 0 and is flagged in `empty` (the reference code divides by zero;
 * we do not): reweighting then excludes it (give it weight 0, see @lrw/strategies).
 *
 * Alignment: `logits[b, t]` scores `targets[b, t]`. For a causal LM fed tokens x[0..T], pass
 * logits of x[0..T-1] and targets x[1..T] (`causalTargets` does the shift).
 *
 * Legend: B batch, T time, V vocabulary.
 */
import { crossEntropy, formatShape, type Tensor, tensor } from '@lrw/tensor';

/** Targets and mask may be tensors or host arrays (host arrays avoid a device read). */
export type TokenInput = Tensor | Int32Array;
export type MaskInput = Tensor | Float32Array | Uint8Array | Int32Array;

export interface PerSampleLossOptions {
  /** Targets equal to this are ignored (default -100, PyTorch's and the reference's value). */
  ignoreIndex?: number;
}

export interface PerSampleLoss {
  /** (B) per-sample mean over active targets; differentiable; 0 for empty samples. */
  losses: Tensor;
  /** (B, T) per-token cross-entropy, 0 at inactive targets; differentiable. */
  tokenLosses: Tensor;
  /** Active targets per sample. */
  counts: number[];
  /** True for samples with no active target (their loss is 0, never NaN). */
  empty: boolean[];
}

function hostData(x: Tensor | ArrayLike<number>, what: string): ArrayLike<number> {
  if (!(x as Tensor).__isTensor) return x as ArrayLike<number>;
  const t = x as Tensor;
  if (!t.backend.readSync) {
    throw new TypeError(
      `perSampleLoss: ${what} lives on backend '${t.backend.name}', which has no synchronous read; pass ${what} as a host typed array (the data loader's Int32Array/Float32Array) instead`,
    );
  }
  return t.dataSync();
}

/** Counts active targets per sample on the host (targets and mask are small: B*T numbers). */
export function activeCounts(
  targets: TokenInput,
  mask: MaskInput | undefined,
  B: number,
  T: number,
  ignoreIndex = -100,
): number[] {
  const t = hostData(targets, 'targets');
  const m = mask === undefined ? undefined : hostData(mask, 'mask');
  if (t.length !== B * T || (m && m.length !== B * T)) {
    throw new RangeError(
      `perSampleLoss: targets (${t.length} values)${m ? ` and mask (${m.length})` : ''} must hold B*T = ${B}*${T} = ${B * T} values`,
    );
  }
  const counts = new Array<number>(B).fill(0);
  for (let b = 0; b < B; b++) {
    for (let i = b * T; i < (b + 1) * T; i++) {
      if (t[i] !== ignoreIndex && (m === undefined || m[i] !== 0)) counts[b]++;
    }
  }
  return counts;
}

/** The int32 targets tensor (B, T) on `backend`; host arrays are uploaded. */
export function targetsTensor(targets: TokenInput, B: number, T: number, backend: string): Tensor {
  if ((targets as Tensor).__isTensor) {
    const t = targets as Tensor;
    if (t.dtype !== 'int32' || t.size !== B * T) {
      throw new TypeError(
        `perSampleLoss: targets ${t.dtype}${formatShape(t.shape)} must be int32 with B*T = ${B * T} elements ([${B}, ${T}])`,
      );
    }
    return t.reshape([B, T]);
  }
  return tensor(targets as Int32Array, { shape: [B, T], dtype: 'int32', backend });
}

/** The float mask (B, T), or undefined. */
export function maskTensor(mask: MaskInput | undefined, B: number, T: number, backend: string) {
  if (mask === undefined) return undefined;
  if ((mask as Tensor).__isTensor) return (mask as Tensor).cast('float32').reshape([B, T]);
  return tensor(Float32Array.from(mask as ArrayLike<number>), { shape: [B, T], backend });
}

/** Reduces per-token losses (B, T) to per-sample means with host counts (B). */
export function reduceTokenLosses(tokenLosses: Tensor, counts: number[]): PerSampleLoss {
  const be = tokenLosses.backend.name;
  const denom = tensor(
    counts.map((c) => Math.max(c, 1)),
    { backend: be },
  ); // (B); empty samples divide 0 by 1
  const losses = tokenLosses.sum(-1).div(denom); // (B)
  denom.dispose();
  return { losses, tokenLosses, counts, empty: counts.map((c) => c === 0) };
}

/**
 * Per-sample loss from logits (B, T, V) and int32 targets (B, T), with an optional mask (B, T)
 * (0 = ignore). See the file comment for the definition and the causal shift.
 */
export function perSampleLoss(
  logits: Tensor,
  targets: TokenInput,
  mask?: MaskInput,
  options: PerSampleLossOptions = {},
): PerSampleLoss {
  if (logits.rank !== 3) {
    throw new RangeError(
      `perSampleLoss: logits must be (B, T, V), got ${formatShape(logits.shape)}`,
    );
  }
  const [B, T] = logits.shape;
  const ignoreIndex = options.ignoreIndex ?? -100;
  const counts = activeCounts(targets, mask, B, T, ignoreIndex);
  const be = logits.backend.name;
  const tt = targetsTensor(targets, B, T, be);
  const mt = maskTensor(mask, B, T, be);
  const tokenLosses = crossEntropy(logits, tt, { ignoreIndex, mask: mt }); // (B, T)
  if (tt !== targets) tt.dispose();
  if (mt !== mask) mt?.dispose();
  return reduceTokenLosses(tokenLosses, counts);
}

/**
 * Splits tokens (B, T+1) into inputs (B, T) and next-token targets (B, T) (host arrays), with
 * the mask (B, T+1) shifted the same way when given.
 */
export function causalTargets(
  tokens: Int32Array,
  B: number,
  mask?: ArrayLike<number>,
): { inputs: Int32Array; targets: Int32Array; mask?: Float32Array } {
  const T1 = tokens.length / B;
  if (!Number.isInteger(T1) || T1 < 2) {
    throw new RangeError(
      `causalTargets: ${tokens.length} tokens do not form ${B} rows of at least 2 tokens`,
    );
  }
  const T = T1 - 1;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const m = mask ? new Float32Array(B * T) : undefined;
  for (let b = 0; b < B; b++) {
    inputs.set(tokens.subarray(b * T1, b * T1 + T), b * T);
    targets.set(tokens.subarray(b * T1 + 1, (b + 1) * T1), b * T);
    if (m && mask) for (let t = 0; t < T; t++) m[b * T + t] = mask[b * T1 + t + 1];
  }
  return { inputs, targets, mask: m };
}

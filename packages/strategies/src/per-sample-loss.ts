import { ReweightError } from './errors.js';

export interface PerSampleLossOptions {
  /** Batch size B. */
  batch: number;
  /** Sequence length T. */
  time: number;
  /** Vocabulary size V. */
  vocab: number;
  /** Targets equal to this value are ignored. Default -100 (the reference code's value). */
  ignoreIndex?: number;
}

/**
 * Reference per-sample causal-LM loss on plain arrays (spec section 1), for tests and small
 * trainers: logits (B, T, V) row-major, labels (B, T). Position t predicts label t + 1; ignored
 * targets contribute 0; l_i = (sum of token cross-entropy) / (active targets). A sample with no
 * active target gets loss 0 and numActive 0: pass `active: numActive` to `computeWeights` so it
 * gets weight 0 (the reference divides by zero here).
 */
export function perSampleLoss(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: PerSampleLossOptions,
): { losses: Float64Array; numActive: Int32Array } {
  const { batch: B, time: T, vocab: V } = options;
  const ignore = options.ignoreIndex ?? -100;
  if (logits.length !== B * T * V || labels.length !== B * T) {
    throw new ReweightError(
      'shape-mismatch',
      `logits has ${logits.length} entries and labels ${labels.length}; expected B*T*V = ` +
        `${B * T * V} and B*T = ${B * T} for B=${B}, T=${T}, V=${V}.`,
    );
  }
  const losses = new Float64Array(B);
  const numActive = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let sum = 0;
    let count = 0;
    for (let t = 0; t + 1 < T; t++) {
      const target = labels[b * T + t + 1];
      if (target === ignore) continue;
      if (!Number.isInteger(target) || target < 0 || target >= V) {
        throw new ReweightError(
          'invalid-option',
          `labels[${b}][${t + 1}] = ${target} is not a token id in [0, ${V}) nor the ignore index ${ignore}.`,
        );
      }
      const row = (b * T + t) * V;
      let top = -Infinity;
      for (let v = 0; v < V; v++) if (logits[row + v] > top) top = logits[row + v];
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[row + v] - top);
      sum += top + Math.log(z) - logits[row + target];
      count++;
    }
    losses[b] = count > 0 ? sum / count : 0;
    numActive[b] = count;
  }
  return { losses, numActive };
}

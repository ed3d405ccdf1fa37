import { computeWeights, type WeightOptions } from './compute-weights.js';
import { ReweightError, show } from './errors.js';

export type AccumulationNormalization = 'per-micro-batch' | 'across-accumulation';

export interface AccumulationOptions extends Omit<WeightOptions, 'active' | 'out'> {
  /**
   * - 'per-micro-batch' (the reference code): each micro-batch is normalized and weighted on its
   *   own, its weighted sum divided by the number of micro-batches A. Each micro-batch can be
   *   backpropagated as soon as its losses are known.
   * - 'across-accumulation': one min-max normalization and one softmax over all A micro-batches,
   *   exactly the weights of one large batch. It needs every micro-batch's loss before the first
   *   backward: keep the graphs, or run a no-grad forward pass first (one extra forward).
   */
  normalization: AccumulationNormalization;
  /** Per micro-batch, as `WeightOptions.active`. */
  active?: ArrayLike<number | boolean>[];
}

/**
 * Coefficients c[m][i] for gradient accumulation over micro-batches m (spec section 5): the
 * optimizer step minimises sum_m sum_i c[m][i] l[m][i]; each micro-batch backpropagates its own
 * sum. Both forms sum to 1 over all samples and agree when A = 1.
 */
export function accumulationCoefficients(
  microBatchLosses: ArrayLike<number>[],
  options: AccumulationOptions,
): Float64Array[] {
  const a = microBatchLosses.length;
  if (a === 0) {
    throw new ReweightError(
      'empty-losses',
      'microBatchLosses is empty: pass the per-sample losses of each micro-batch of the step.',
    );
  }
  const { normalization, active, ...weightOptions } = options;
  if (active !== undefined && active.length !== a) {
    throw new ReweightError(
      'shape-mismatch',
      `active has ${active.length} entries for ${a} micro-batches: pass one array per micro-batch.`,
    );
  }
  if (normalization === 'per-micro-batch') {
    return microBatchLosses.map((losses, m) => {
      const w = computeWeights(losses, { ...weightOptions, active: active?.[m] });
      for (let i = 0; i < w.length; i++) w[i] /= a;
      return w;
    });
  }
  if (normalization !== 'across-accumulation') {
    throw new ReweightError(
      'invalid-option',
      `normalization = ${show(normalization)}: use 'per-micro-batch' (reference) or ` +
        "'across-accumulation'.",
    );
  }
  let total = 0;
  for (const l of microBatchLosses) total += l.length;
  const all = new Float64Array(total);
  const allActive = active === undefined ? undefined : new Float64Array(total);
  let offset = 0;
  microBatchLosses.forEach((losses, m) => {
    const act = active?.[m];
    if (act !== undefined && act.length !== losses.length) {
      throw new ReweightError(
        'shape-mismatch',
        `active[${m}] has ${act.length} entries but micro-batch ${m} has ${losses.length} losses.`,
      );
    }
    for (let i = 0; i < losses.length; i++) {
      all[offset + i] = losses[i];
      if (allActive !== undefined && act !== undefined) allActive[offset + i] = act[i] ? 1 : 0;
      else if (allActive !== undefined) allActive[offset + i] = 1;
    }
    offset += losses.length;
  });
  const w = computeWeights(all, { ...weightOptions, active: allActive });
  offset = 0;
  return microBatchLosses.map((losses) => {
    const part = w.slice(offset, offset + losses.length);
    offset += losses.length;
    return part;
  });
}

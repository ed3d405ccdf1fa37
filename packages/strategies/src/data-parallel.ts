import { ReweightError, show } from './errors.js';

export interface RankOptions {
  /** Number of data-parallel ranks W. */
  worldSize: number;
  /** GLOBAL rank of this process, 0..W-1 (not the rank within its node; see spec section 5). */
  rank: number;
  /**
   * How the collective combines gradients: 'mean' (DDP/FSDP default: divide by W) or 'sum'.
   * Default 'mean'.
   */
  gradientReduction?: 'mean' | 'sum';
  /**
   * Samples per rank, when ranks hold different batch sizes, in rank order (the order of the
   * all-gather). Default: the global batch split evenly.
   */
  rankSizes?: ArrayLike<number>;
}

export interface RankSlice<W extends Float64Array | Float32Array = Float64Array> {
  /**
   * This rank's weights: a view into the global weights when they are a `Float64Array` or a
   * `Float32Array`, otherwise a `Float64Array` copy.
   */
  weights: W;
  /** Index of this rank's first sample in the gathered batch. */
  start: number;
  /** One past its last sample. */
  end: number;
  /**
   * Multiply the local sum_i w_i l_i by this before backward: W under mean reduction, so that
   * averaging over ranks yields sum over ALL samples of w_i grad l_i; 1 under sum reduction.
   */
  scale: number;
}

function checkInt(value: number, where: string, min: number, max: number, hint: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ReweightError(
      'invalid-option',
      `${where} = ${show(value)} must be an integer in [${min}, ${max}]; ${hint}`,
    );
  }
}

/**
 * This rank's slice of the global weights and the factor for its local weighted sum
 * (spec section 5). The global weights come from `computeWeights` on the all-gathered losses,
 * in rank order.
 *
 * @example
 * const global = computeWeights(allGatheredLosses, { strategy: 'linupper', r: 0.4 });
 * const { weights, scale } = rankWeightSlice(global, { worldSize, rank });
 * // backpropagate scale * sum_i weights[i] * localLosses[i]
 */
export function rankWeightSlice(
  globalWeights: Float32Array,
  options: RankOptions,
): RankSlice<Float32Array>;
export function rankWeightSlice(globalWeights: ArrayLike<number>, options: RankOptions): RankSlice;
export function rankWeightSlice(
  globalWeights: ArrayLike<number>,
  options: RankOptions,
): RankSlice<Float64Array | Float32Array> {
  const { worldSize, rank } = options;
  const reduction = options.gradientReduction ?? 'mean';
  checkInt(
    worldSize,
    'worldSize',
    1,
    Number.MAX_SAFE_INTEGER,
    'the number of data-parallel ranks.',
  );
  checkInt(rank, 'rank', 0, worldSize - 1, 'the GLOBAL rank of this process (0-based).');
  if (reduction !== 'mean' && reduction !== 'sum') {
    throw new ReweightError(
      'invalid-option',
      `gradientReduction = ${show(reduction)}: use 'mean' (DDP/FSDP averaging) or 'sum'.`,
    );
  }
  const total = (globalWeights as ArrayLike<number> | null)?.length as number;
  if (!(total >= 0)) {
    throw new ReweightError(
      'invalid-option',
      'globalWeights is not an array: pass the weights of computeWeights (any array of numbers).',
    );
  }
  let start: number;
  let end: number;
  if (options.rankSizes !== undefined) {
    const sizes = options.rankSizes;
    if (sizes.length !== worldSize) {
      throw new ReweightError(
        'shape-mismatch',
        `rankSizes has ${sizes.length} entries for worldSize ${worldSize}: pass one size per rank.`,
      );
    }
    let sum = 0;
    start = 0;
    for (let k = 0; k < worldSize; k++) {
      checkInt(sizes[k], `rankSizes[${k}]`, 0, total, 'the number of samples of that rank.');
      if (k < rank) start += sizes[k];
      sum += sizes[k];
    }
    if (sum !== total) {
      throw new ReweightError(
        'shape-mismatch',
        `rankSizes sum to ${sum} but there are ${total} global weights: pass the per-rank batch ` +
          'sizes of the all-gather that produced the losses.',
      );
    }
    end = start + sizes[rank];
  } else {
    if (total % worldSize !== 0) {
      throw new ReweightError(
        'shape-mismatch',
        `${total} global weights do not split evenly over worldSize ${worldSize}: pass rankSizes ` +
          'when ranks hold different batch sizes.',
      );
    }
    const per = total / worldSize;
    start = rank * per;
    end = start + per;
  }
  return {
    weights:
      globalWeights instanceof Float64Array || globalWeights instanceof Float32Array
        ? globalWeights.subarray(start, end)
        : Float64Array.from(Array.prototype.slice.call(globalWeights, start, end)),
    start,
    end,
    scale: reduction === 'mean' ? worldSize : 1,
  };
}

/**
 * The two reference forms of a rank's loss, as per-sample coefficients c_i such that the rank
 * backpropagates sum_i c_i l_i (l_i: the per-sample mean token loss of its local samples).
 *
 * - 'weighted-sum' (README / fms-fsdp form, ours): c_i = scale * w_i. After gradient averaging
 *   the objective is exactly sum over all samples of w_i l_i.
 * - 'token-mean' (trainer.py form): each token's loss is multiplied by B * w_i and the rank takes
 *   the mean over its active tokens, so c_i = scale * B * w_i * n_i / sum_j n_j with n_i the
 *   active targets of sample i and B the local batch. It equals 'weighted-sum' only when all
 *   local samples have the same number of active targets; otherwise samples with more tokens
 *   weigh more than w_i (golden `distributed_cases`: 3.4766 instead of 3.4982).
 */
export function rankLossCoefficients(
  globalWeights: ArrayLike<number>,
  options: RankOptions & { form?: 'weighted-sum' | 'token-mean'; numActive?: ArrayLike<number> },
): Float64Array {
  const { weights, scale } = rankWeightSlice(globalWeights, options);
  const form = options.form ?? 'weighted-sum';
  const b = weights.length;
  const out = new Float64Array(b);
  if (form === 'weighted-sum') {
    for (let i = 0; i < b; i++) out[i] = scale * weights[i];
    return out;
  }
  if (form !== 'token-mean') {
    throw new ReweightError(
      'invalid-option',
      `form = ${show(form)}: use 'weighted-sum' (exact) or 'token-mean' (trainer.py).`,
    );
  }
  const active = options.numActive;
  if (active === undefined || active.length !== b) {
    throw new ReweightError(
      'shape-mismatch',
      `form 'token-mean' needs numActive with one active-target count per local sample (${b}), ` +
        `got ${active === undefined ? 'none' : active.length}.`,
    );
  }
  let tokens = 0;
  for (let i = 0; i < b; i++) tokens += active[i];
  if (tokens === 0) return out;
  for (let i = 0; i < b; i++) out[i] = (scale * b * weights[i] * active[i]) / tokens;
  return out;
}

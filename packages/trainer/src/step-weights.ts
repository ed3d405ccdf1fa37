import { type Reweighter, type WeightStats, weightStats } from '@lrw/strategies';
import type { TrainerConfig } from './config.js';

/** One micro-batch's per-sample losses over the global batch (all ranks, in rank order). */
export interface GlobalMicroBatch {
  losses: Float32Array;
  /** 1 where the sample has at least one active target. */
  active: Uint8Array;
}

export interface StepWeights {
  /** Per micro-batch, one coefficient per global sample; all of them sum to 1. */
  coefficients: Float64Array[];
  /**
   * True when every coefficient is 1/(A n): the trainer then backpropagates the plain mean
   * loss itself (`losses.mean()`), so uniform training equals mean-loss training exactly.
   */
  uniform: boolean;
  /** Temperature of the step (Infinity during a plain-mean warm-up and for `uniform`). */
  r: number;
  stats: WeightStats;
}

function concat<T extends Float32Array | Uint8Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The coefficients c of one optimizer step's objective sum_m sum_i c[m][i] l[m][i] (spec
 * sections 4-5) from the global losses of its A micro-batches.
 *
 * - One micro-batch, or `global` normalization: `reweighter.weigh` over all A micro-batches at
 *   once (one min-max normalization and one softmax: the weights of one large batch).
 * - `per-micro-batch` with A > 1 (the reference code): each micro-batch is weighted on its own
 *   by `reweighter.weigh` and divided by A (as `accumulationCoefficients`). The reweighter's
 *   running totals then count micro-batch weightings: `steps` grows by A per optimizer step and
 *   `capBreaks` counts the micro-batches whose own weights broke the 2/n cap.
 */
export function stepWeights(
  reweighter: Reweighter,
  method: TrainerConfig['method'] | 'custom',
  micro: readonly GlobalMicroBatch[],
  step: number,
  normalization: TrainerConfig['accumulationNormalization'],
): StepWeights {
  const A = micro.length;
  const allLosses = concat(
    micro.map((m) => m.losses),
    (n) => new Float32Array(n),
  );
  const allActive = concat(
    micro.map((m) => m.active),
    (n) => new Uint8Array(n),
  );
  const everyActive = allActive.every((a) => a === 1);
  const active = everyActive ? undefined : allActive;
  if (A === 1 || normalization === 'global') {
    const result = reweighter.weigh(allLosses, step, { active });
    const coefficients: Float64Array[] = [];
    let at = 0;
    for (const m of micro) {
      coefficients.push(result.weights.slice(at, at + m.losses.length));
      at += m.losses.length;
    }
    const uniform = (method === 'uniform' || result.plainMean) && everyActive;
    return {
      coefficients,
      uniform,
      r: method === 'uniform' ? Infinity : result.r,
      stats: result.stats,
    };
  }
  // Each micro-batch goes through reweighter.weigh on its own (the same computeWeights call as
  // accumulationCoefficients' per-micro-batch branch), so its running totals (steps, cap breaks,
  // non-finite losses) count once per micro-batch weighting: A per optimizer step.
  const results = micro.map((m) =>
    reweighter.weigh(m.losses, step, { active: everyActive ? undefined : m.active }),
  );
  const r = method === 'uniform' ? Infinity : results[0]!.r;
  const plainMean = method === 'uniform' || results[0]!.plainMean;
  const coefficients = results.map((res) => {
    const w = res.weights;
    for (let i = 0; i < w.length; i++) w[i]! /= A;
    return w;
  });
  const all = new Float64Array(allLosses.length);
  let at = 0;
  for (const c of coefficients) {
    all.set(c, at);
    at += c.length;
  }
  const stats = weightStats(all, allLosses, { active });
  return { coefficients, uniform: plainMean && everyActive, r, stats };
}

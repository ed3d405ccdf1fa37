/** The global Philox generator and how a random op picks its (seed, offset). */
import type { CreateOptions } from '../creation.js';
import { Generator, type RandomAttrs } from '../philox.js';

export interface RandomOptions extends Omit<CreateOptions, 'dtype'> {
  /** Seed of a one-off stream (offset 0 unless `offset` is given). */
  seed?: number;
  offset?: number;
  /** Generator to draw from (default: the global one, see `manualSeed`). */
  generator?: Generator;
}

let globalGenerator = new Generator(0);

/** Reseeds the global generator used by random ops without `seed` or `generator`. */
export function manualSeed(seed: number): void {
  globalGenerator = new Generator(seed);
}

/** The global generator (its `state()` belongs in a checkpoint). */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** @internal Resolves the (seed, offset) of a stream of n elements. */
export function streamStart(
  dist: RandomAttrs['dist'],
  n: number,
  options: RandomOptions,
): { seed: number; offset: number } {
  if (options.seed !== undefined) {
    if (options.generator)
      throw new TypeError('random ops: pass either seed or generator, not both');
    return { seed: options.seed, offset: options.offset ?? 0 };
  }
  return (options.generator ?? globalGenerator).next(dist, n);
}

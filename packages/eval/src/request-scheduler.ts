/**
 * Sends loglikelihood requests to a model efficiently: identical requests are scored once
 * (a cache keyed by a hash of context and continuation, reusable across runs), the rest are
 * sorted longest first (as lm-eval's Collator, so a batch holds similar lengths and memory
 * errors surface at once) with the choices of one context kept next to each other (so a
 * model can reuse the context's forward pass), and sent in batches.
 */
import { createHash } from 'node:crypto';
import type { LanguageModel, LoglikelihoodResult } from './language-model.js';
import type { LoglikelihoodRequest } from './task.js';

/** Results by request hash; pass the same cache to later runs to skip scored requests. */
export class RequestCache {
  private readonly map = new Map<string, LoglikelihoodResult>();
  static key(r: LoglikelihoodRequest): string {
    return createHash('sha256')
      .update(r.context)
      .update('\u0000')
      .update(r.continuation)
      .digest('hex');
  }
  get(key: string): LoglikelihoodResult | undefined {
    return this.map.get(key);
  }
  set(key: string, value: LoglikelihoodResult): void {
    this.map.set(key, value);
  }
  get size(): number {
    return this.map.size;
  }
}

export interface ScheduleStats {
  /** Requests asked for. */
  requests: number;
  /** Requests the model scored (after deduplication and the cache). */
  scored: number;
  /** Model calls. */
  batches: number;
}

/** Scores every request (results in request order). */
export async function scoreRequests(
  model: LanguageModel,
  requests: readonly LoglikelihoodRequest[],
  options: { batchSize?: number; cache?: RequestCache } = {},
): Promise<{ results: LoglikelihoodResult[]; stats: ScheduleStats }> {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const cache = options.cache ?? new RequestCache();
  const keys = requests.map(RequestCache.key);
  const pending = new Map<string, LoglikelihoodRequest>();
  keys.forEach((k, i) => {
    if (!cache.get(k) && !pending.has(k)) pending.set(k, requests[i]);
  });
  // Longest context first, then by context (choices together), then longest continuation.
  const todo = [...pending.entries()].sort(([, a], [, b]) => {
    if (a.context.length !== b.context.length) return b.context.length - a.context.length;
    if (a.context !== b.context) return a.context < b.context ? -1 : 1;
    return b.continuation.length - a.continuation.length;
  });
  let batches = 0;
  for (let start = 0; start < todo.length; start += batchSize) {
    const chunk = todo.slice(start, start + batchSize);
    const out = await model.loglikelihood(
      chunk.map(([, r]) => ({ context: r.context, continuation: r.continuation })),
    );
    batches++;
    if (!Array.isArray(out) || out.length !== chunk.length) {
      throw new TypeError(
        `LanguageModel.loglikelihood returned ${Array.isArray(out) ? out.length : typeof out} results for ${chunk.length} requests`,
      );
    }
    chunk.forEach(([k], i) => {
      const r = out[i];
      if (typeof r?.logprob !== 'number' || Number.isNaN(r.logprob)) {
        throw new TypeError(
          `LanguageModel.loglikelihood gave a non-numeric logprob (${JSON.stringify(r)})`,
        );
      }
      cache.set(k, { logprob: r.logprob, greedy: Boolean(r.greedy) });
    });
  }
  return {
    results: keys.map((k) => cache.get(k)!),
    stats: { requests: requests.length, scored: todo.length, batches },
  };
}

import {
  type DomainPerplexity,
  evaluatePerplexity,
  type PerplexityReport,
  type TokenBatch,
  type TokenScorer,
} from '@lrw/eval';
import type { CausalLM } from '@lrw/models';
import { noGrad, tensor, tidy } from '@lrw/tensor';
import type { EvalRecord } from './metrics-record.js';

/**
 * A @lrw/eval TokenScorer over a @lrw/models causal LM: log p(target) = -(per-token cross
 * entropy), through the model's memory-lean head, with gradients and dropout off. Runs on the
 * model's backend (token ids go there; the losses come back with one asynchronous read).
 */
export class ModelScorer implements TokenScorer {
  constructor(private readonly model: CausalLM) {}

  async targetLogProbs(batch: TokenBatch): Promise<Float32Array> {
    const { batchSize: B, seqLen: T } = batch;
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      const backend = this.model.parameters()[0]?.backend.name;
      const tokenLosses = noGrad(() =>
        tidy(() => {
          const ids = tensor(batch.tokens, { shape: [B, T], dtype: 'int32', backend });
          const mask = batch.mask ?? new Float32Array(B * T).fill(1);
          return this.model.perSampleLoss(ids, batch.targets, mask).tokenLosses;
        }),
      );
      let nll: Float32Array;
      try {
        nll = (await tokenLosses.data()) as Float32Array; // any backend (no synchronous read)
      } finally {
        tokenLosses.dispose();
      }
      const out = new Float32Array(B * T);
      for (let i = 0; i < out.length; i++) out[i] = -nll[i]!;
      return out;
    } finally {
      this.model.train(wasTraining);
    }
  }
}

/** Per-domain validation loss and perplexity of `model` over `batches` (all of them, or `maxBatches`). */
export async function evaluateModel(
  model: CausalLM,
  batches: Iterable<TokenBatch> | AsyncIterable<TokenBatch>,
  options: { domains: readonly string[]; maxBatches?: number },
): Promise<PerplexityReport> {
  return evaluatePerplexity(new ModelScorer(model), batches, options);
}

/**
 * The metrics record of an evaluation. `loss` is the mean of the per-domain losses (each domain
 * counts once, as the paper's averages over domains), not the token-weighted overall loss.
 */
export function evalRecord(step: number, report: PerplexityReport): EvalRecord {
  const entries = Object.entries(report.domains) as [string, DomainPerplexity][];
  const domainLoss: Record<string, number> = {};
  const domainPerplexity: Record<string, number> = {};
  for (const [name, d] of entries) {
    domainLoss[name] = d.loss;
    domainPerplexity[name] = d.perplexity;
  }
  const loss =
    entries.length > 0 ? entries.reduce((s, [, d]) => s + d.loss, 0) / entries.length : Number.NaN;
  return { kind: 'eval', step, loss, domainLoss, domainPerplexity };
}

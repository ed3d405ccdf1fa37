/**
 * The model interface of the task runner: string in, log-likelihoods out, as lm-eval's `LM`
 * class (lm_eval/api/model.py). The model tokenizes; any model fits behind it.
 */

/** Log-likelihood of one continuation and whether greedy decoding would produce it. */
export interface LoglikelihoodResult {
  logprob: number;
  greedy: boolean;
}

export interface LanguageModel {
  /** Sum of log p(continuation tokens | context), natural log, one result per request. */
  loglikelihood(
    requests: { context: string; continuation: string }[],
  ): Promise<LoglikelihoodResult[]>;
  /** Log-likelihood of each whole text (rolling windows over the model's context). */
  loglikelihoodRolling(texts: string[]): Promise<number[]>;
}

/**
 * lm-eval's few-shot samplers (lm_eval/api/samplers.py; `ContextSampler` is `default`,
 * `FirstNSampler` is `first_n`). One `random.Random(seed)` serves the whole task and is drawn
 * from in document order.
 *
 * The evaluated document is excluded only when the few-shot split is the evaluated split as
 * configured (`fewshot_config.split == test_split`, so two unset splits count as equal, and
 * hand-written `samples` count as an unset split): then `default` draws `n + 1` with
 * `random.sample`, drops any example equal to the document and keeps the first `n`, and
 * `first_n` takes the first `n` of the pool without the document. Otherwise the draw is
 * `random.sample(pool, n)`, or the first `n`, as it comes: a task with `fewshot_split:
 * validation` and no test split can show a validation document its own answer, as lm-eval does.
 */

import { TaskConfigError } from './errors.js';
import { pyEquals } from './python-methods.js';
import { PythonRandom } from './python-random.js';
import type { Doc } from './task-functions.js';

export const FEWSHOT_SAMPLERS = ['default', 'first_n'] as const;

export interface FewShotSamplerOptions {
  /** `default` (random, the default) or `first_n`. */
  sampler?: string;
  /** Exclude the evaluated document (the few-shot split is the evaluated one). */
  excludeEvalDoc: boolean;
}

export class FewShotSampler {
  private readonly rnd: PythonRandom;
  private readonly firstN: boolean;
  private readonly excludeEvalDoc: boolean;

  constructor(
    private readonly docs: readonly Doc[],
    seed: number,
    options: FewShotSamplerOptions,
  ) {
    const sampler = options.sampler ?? 'default';
    if (!(FEWSHOT_SAMPLERS as readonly string[]).includes(sampler)) {
      throw new TaskConfigError(
        `few-shot sampler '${sampler}' is not supported (supported: ${FEWSHOT_SAMPLERS.join(', ')})`,
      );
    }
    this.firstN = sampler === 'first_n';
    this.excludeEvalDoc = options.excludeEvalDoc;
    this.rnd = new PythonRandom(seed);
  }

  /** The few-shot examples for `doc`, in prompt order (objects of the pool, not copies). */
  draw(doc: Doc, numFewshot: number): Doc[] {
    if (numFewshot === 0) return [];
    if (this.firstN) {
      const pool = this.excludeEvalDoc ? this.docs.filter((x) => !pyEquals(x, doc)) : this.docs;
      if (numFewshot > pool.length) throw this.tooFew(numFewshot, pool.length);
      return pool.slice(0, numFewshot);
    }
    const n = this.excludeEvalDoc ? numFewshot + 1 : numFewshot;
    if (n > this.docs.length) throw this.tooFew(n, this.docs.length);
    const drawn = this.rnd.sample(this.docs, n);
    return this.excludeEvalDoc
      ? drawn.filter((x) => !pyEquals(x, doc)).slice(0, numFewshot)
      : drawn;
  }

  private tooFew(n: number, available: number): TaskConfigError {
    return new TaskConfigError(
      `num_fewshot: ${n} few-shot examples to draw but only ${available} documents to draw from`,
      { hint: 'lower --num-fewshot, or give a larger few-shot split.' },
    );
  }
}

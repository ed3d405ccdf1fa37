/**
 * lm-eval's default few-shot sampler (`ContextSampler`, lm_eval/api/samplers.py): each
 * document draws `random.sample(fewshot_docs, n)` from one `random.Random(seed)` shared by
 * the whole task, drops any drawn example equal to the evaluated document, and keeps the
 * first `num_fewshot`. It draws one extra example when `fewshot_split == test_split`
 * (compared as configured, so two unset splits also count as equal), which makes room for
 * the dropped document.
 */

import { pyEquals } from './python-methods.js';
import { PythonRandom } from './python-random.js';
import type { TaskConfig } from './task-config.js';
import type { Doc } from './task-functions.js';

export class FewShotSampler {
  private readonly rnd: PythonRandom;
  private readonly drawExtra: boolean;
  private readonly firstN: boolean;

  constructor(
    private readonly docs: readonly Doc[],
    seed: number,
    config: Pick<TaskConfig, 'fewshot_split' | 'test_split' | 'fewshot_config'>,
  ) {
    const sampler = config.fewshot_config?.sampler ?? 'default';
    if (sampler !== 'default' && sampler !== 'first_n') {
      throw new TypeError(
        `few-shot sampler '${sampler}' is not supported (supported: default, first_n)`,
      );
    }
    this.firstN = sampler === 'first_n';
    this.rnd = new PythonRandom(seed);
    this.drawExtra = (config.fewshot_split ?? null) === (config.test_split ?? null);
  }

  /** The few-shot examples for `doc`, in prompt order. */
  draw(doc: Doc, numFewshot: number): Doc[] {
    const n = this.drawExtra ? numFewshot + 1 : numFewshot;
    if (n > this.docs.length) {
      throw new RangeError(
        `num_fewshot ${numFewshot}: only ${this.docs.length} few-shot documents to draw from`,
      );
    }
    const drawn = this.firstN ? this.docs.slice(0, n) : this.rnd.sample(this.docs, n);
    return drawn.filter((x) => !pyEquals(x, doc)).slice(0, numFewshot);
  }
}

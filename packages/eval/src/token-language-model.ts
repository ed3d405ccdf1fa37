/**
 * A `LanguageModel` from a tokenizer and a causal model that scores tokens, with
 * lm-eval's tokenization rules (HFLM in lm_eval/models/huggingface.py):
 * - trailing spaces of the context move to the continuation before encoding, and the
 *   continuation's tokens are those of `encode(context + continuation)` past the context's;
 * - an empty context is the end-of-text token;
 * - the input is cut from the left to the model window: `(context + continuation)[-(L+1):][:-1]`;
 * - requests with the same model input share one row (one forward pass): the choices of a
 *   question whose continuations are one token long are scored together;
 * - rolling log-likelihood uses lm-eval's disjoint rolling windows.
 */
import { EvaluationError } from './errors.js';
import type { LanguageModel, LoglikelihoodResult } from './language-model.js';
import { pyRstrip } from './python-whitespace.js';

/** The tokenizer part of `@lrw/data`'s `Tokenizer`. */
export interface TextEncoder {
  encode(text: string): ArrayLike<number>;
  /** End-of-text id: the context of an empty context and of the first rolling window. */
  readonly eotId: number;
}

/** One forward pass: `tokens` in, log p(targets[k] | tokens[..=positions[k]]) out. */
export interface ScoringRow {
  tokens: Int32Array;
  positions: Int32Array;
  targets: Int32Array;
}

/** A causal language model at the token level. */
export interface CausalScorer {
  /** The model window (tokens per forward pass). */
  readonly maxLength: number;
  /** For each row: natural-log probability of each target, and whether it was the arg-max. */
  scoreRows(
    rows: ScoringRow[],
  ): Promise<{ logprobs: ArrayLike<number>; greedy: ArrayLike<boolean | number> }[]>;
}

export interface TokenLanguageModelOptions {
  /** Rows per `scoreRows` call, default 16. */
  batchSize?: number;
}

interface Read {
  row: number;
  start: number;
  count: number;
}

/** The start of a long text, for messages. */
function preview(text: string): string {
  const cps = Array.from(text);
  return JSON.stringify(cps.length > 60 ? `${cps.slice(0, 60).join('')}...` : text);
}

export class TokenLanguageModel implements LanguageModel {
  /** Rows sent to the scorer so far (fewer than requests when inputs are shared). */
  rowsScored = 0;
  private readonly batchSize: number;

  constructor(
    private readonly tokenizer: TextEncoder,
    private readonly scorer: CausalScorer,
    options: TokenLanguageModelOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 16;
    if (!Number.isInteger(scorer.maxLength) || scorer.maxLength < 1) {
      throw new RangeError(
        `CausalScorer.maxLength must be a positive integer, got ${scorer.maxLength}`,
      );
    }
  }

  /** lm-eval `_encode_pair`. */
  encodePair(context: string, continuation: string): { context: number[]; continuation: number[] } {
    if (context === '') {
      return {
        context: [this.tokenizer.eotId],
        continuation: Array.from(this.tokenizer.encode(continuation)),
      };
    }
    const trimmed = pyRstrip(context); // Python's rstrip(): Python's whitespace
    const nSpaces = context.length - trimmed.length;
    if (nSpaces > 0) {
      continuation = context.slice(-nSpaces) + continuation;
      context = trimmed;
    }
    const whole = Array.from(this.tokenizer.encode(context + continuation));
    const ctx = Array.from(this.tokenizer.encode(context));
    return { context: ctx, continuation: whole.slice(ctx.length) };
  }

  async loglikelihood(
    requests: { context: string; continuation: string }[],
  ): Promise<LoglikelihoodResult[]> {
    const L = this.scorer.maxLength;
    const rows: { tokens: number[]; positions: number[]; targets: number[] }[] = [];
    const byInput = new Map<string, number>();
    const reads: Read[] = requests.map((r, i) => {
      const { context, continuation } = this.encodePair(r.context, r.continuation);
      if (continuation.length === 0) {
        throw new EvaluationError(
          'TASK_CONFIG',
          `the continuation ${JSON.stringify(r.continuation)} encodes to no tokens (request ${i})`,
        );
      }
      if (continuation.length > L) {
        // lm-eval cuts the context from the left but asserts the continuation fits.
        throw new EvaluationError(
          'REQUEST_TOO_LONG',
          `the continuation ${preview(r.continuation)} is ${continuation.length} tokens, longer than the model's context of ${L} tokens (request ${i}); lm-evaluation-harness refuses such requests too`,
          {
            hint: 'evaluate a model with a longer context, or leave out the task whose answers are this long.',
          },
        );
      }
      const input = [...context, ...continuation].slice(-(L + 1), -1);
      const first = input.length - continuation.length;
      const key = input.join(',');
      let row = byInput.get(key);
      if (row === undefined) {
        row = rows.length;
        byInput.set(key, row);
        rows.push({ tokens: input, positions: [], targets: [] });
      }
      const start = rows[row].positions.length;
      continuation.forEach((t, k) => {
        rows[row].positions.push(first + k);
        rows[row].targets.push(t);
      });
      return { row, start, count: continuation.length };
    });
    const scored = await this.scoreAll(rows);
    return reads.map(({ row, start, count }) => {
      let logprob = 0;
      let greedy = true;
      for (let k = start; k < start + count; k++) {
        logprob += scored[row].logprobs[k];
        greedy &&= Boolean(scored[row].greedy[k]);
      }
      return { logprob, greedy };
    });
  }

  async loglikelihoodRolling(texts: string[]): Promise<number[]> {
    const L = this.scorer.maxLength;
    const rows: { tokens: number[]; positions: number[]; targets: number[] }[] = [];
    const owner: number[] = [];
    texts.forEach((text, i) => {
      const tokens = Array.from(this.tokenizer.encode(text));
      if (tokens.length === 0) return;
      // lm-eval get_rolling_token_windows(max_seq_len=L, context_len=1), made disjoint.
      const first = Math.min(L, tokens.length);
      const input0 = [this.tokenizer.eotId, ...tokens.slice(0, first - 1)];
      rows.push({
        tokens: input0,
        positions: input0.map((_, k) => k),
        targets: tokens.slice(0, first),
      });
      owner.push(i);
      let predicted = first;
      while (predicted < tokens.length) {
        const n = Math.min(tokens.length - predicted, L);
        const end = predicted + n;
        const input = tokens.slice(end - L - 1, end - 1);
        const positions = Array.from({ length: n }, (_, k) => input.length - n + k);
        rows.push({ tokens: input, positions, targets: tokens.slice(end - n, end) });
        owner.push(i);
        predicted = end;
      }
    });
    const scored = await this.scoreAll(rows);
    const out = texts.map(() => 0);
    scored.forEach((s, r) => {
      for (let k = 0; k < rows[r].positions.length; k++) out[owner[r]] += s.logprobs[k];
    });
    return out;
  }

  private async scoreAll(rows: { tokens: number[]; positions: number[]; targets: number[] }[]) {
    // Longest rows first, so each call holds similar lengths.
    const order = rows
      .map((_, i) => i)
      .sort((a, b) => rows[b].tokens.length - rows[a].tokens.length);
    const out: { logprobs: ArrayLike<number>; greedy: ArrayLike<boolean | number> }[] = new Array(
      rows.length,
    );
    for (let s = 0; s < order.length; s += this.batchSize) {
      const ids = order.slice(s, s + this.batchSize);
      const res = await this.scorer.scoreRows(
        ids.map((i) => ({
          tokens: Int32Array.from(rows[i].tokens),
          positions: Int32Array.from(rows[i].positions),
          targets: Int32Array.from(rows[i].targets),
        })),
      );
      if (res.length !== ids.length) {
        throw new TypeError(
          `CausalScorer.scoreRows returned ${res.length} results for ${ids.length} rows`,
        );
      }
      ids.forEach((i, k) => {
        out[i] = res[k];
      });
      this.rowsScored += ids.length;
    }
    return out;
  }
}

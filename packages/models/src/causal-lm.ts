/**
 * What GPT2 and Llama share: token ids in, final hidden states, the vocabulary head, logits,
 * and the per-sample loss through either the composed head (logits, then cross-entropy) or the
 * memory-lean chunked head (`linearCrossEntropy`, the default).
 *
 * Legend: B batch, T time, C channels, V vocabulary.
 */
import { formatShape, type Generator, type Tensor, tidy } from '@lrw/tensor';
import type { ModelConfig } from './config.js';
import { linearCrossEntropy } from './linear-cross-entropy.js';
import { Module } from './nn/module.js';
import {
  activeCounts,
  type MaskInput,
  maskTensor,
  type PerSampleLoss,
  perSampleLoss,
  reduceTokenLosses,
  type TokenInput,
  targetsTensor,
} from './per-sample-loss.js';

export interface ModelOptions {
  /** Seed of the initial weights (and of the dropout stream, on a separate generator). */
  seed?: number;
  /** Backend for the parameters (default: the current backend). */
  backend?: string;
}

export interface LossOptions {
  /** Targets equal to this are ignored (default -100). */
  ignoreIndex?: number;
  /**
   * 'chunked' (default): head + cross-entropy without a (B, T, V) logits buffer;
   * 'logits': materialise the logits, then `perSampleLoss` (simplest; more memory).
   */
  head?: 'chunked' | 'logits';
  /**
   * Rows (tokens) per chunk of the chunked head on backends without a fused
   * `linearCrossEntropy` routine (default 1024); the fused routine sizes its own chunks.
   */
  chunkRows?: number;
}

export abstract class CausalLM extends Module {
  abstract readonly config: Required<ModelConfig>;
  /** Dropout masks come from this generator; put `state()` in checkpoints. */
  abstract readonly dropoutGenerator: Generator;

  /** Final hidden states after the last norm: ids (B, T) int32 -> (B, T, C). */
  abstract hidden(ids: Tensor): Tensor;

  /** The output head's weight (V, C) (GPT-2: the token embedding, tied). */
  abstract headWeight(): Tensor;

  /** Logits: ids (B, T) -> (B, T, V). */
  forward(ids: Tensor): Tensor {
    return tidy(() => {
      const h = this.hidden(ids); // (B, T, C)
      const [B, T, C] = h.shape;
      const V = this.config.vocabSize;
      return h
        .reshape([B * T, C])
        .matmul(this.headWeight().mT)
        .reshape([B, T, V]); // (B, T, V)
    });
  }

  /**
   * Per-sample losses of next-token prediction: ids (B, T), targets (B, T) aligned with ids'
   * positions (targets[b, t] = ids[b, t + 1] for a plain LM; see `causalTargets`), optional mask
   * (B, T) (0 = ignore). Returns the (B) losses, the (B, T) token losses and the empty flags.
   */
  perSampleLoss(
    ids: Tensor,
    targets: TokenInput,
    mask?: MaskInput,
    options: LossOptions = {},
  ): PerSampleLoss {
    const ignoreIndex = options.ignoreIndex ?? -100;
    if (options.head === 'logits') {
      return tidy(() => perSampleLoss(this.forward(ids), targets, mask, { ignoreIndex }));
    }
    return tidy(() => {
      const h = this.hidden(ids); // (B, T, C)
      const [B, T, C] = h.shape;
      const counts = activeCounts(targets, mask, B, T, ignoreIndex);
      const be = h.backend.name;
      const tt = targetsTensor(targets, B, T, be).reshape([B * T]); // (N)
      let active = tt.ne(ignoreIndex); // (N)
      const mt = maskTensor(mask, B, T, be);
      if (mt) active = active.mul(mt.reshape([B * T]).ne(0));
      const tok = linearCrossEntropy(h.reshape([B * T, C]), this.headWeight(), tt, active, {
        chunkRows: options.chunkRows,
      }); // (N)
      return reduceTokenLosses(tok.reshape([B, T]), counts);
    });
  }

  /**
   * Checks ids: int32 (B, T), T within the context, and (on host-memory backends) values within
   * the vocabulary. GPU backends have no synchronous read; there the embedding gather checks
   * the ids on the device and the next read throws, naming the bad id and its position.
   */
  protected checkIds(ids: Tensor): [number, number] {
    const { vocabSize, contextLength } = this.config;
    if (ids.dtype !== 'int32' || ids.rank !== 2) {
      throw new TypeError(
        `${this.config.arch}: ids must be int32 (B, T), got ${ids.dtype}${formatShape(ids.shape)}`,
      );
    }
    const [B, T] = ids.shape;
    if (T > contextLength) {
      throw new RangeError(
        `${this.config.arch}: sequence length ${T} exceeds the context length ${contextLength}; cut the batch or raise contextLength`,
      );
    }
    if (ids.backend.readSync) {
      const d = ids.dataSync();
      for (let i = 0; i < d.length; i++) {
        if (d[i] < 0 || d[i] >= vocabSize) {
          throw new RangeError(
            `${this.config.arch}: token id ${d[i]} at position ${i} is outside the vocabulary 0..${vocabSize - 1}`,
          );
        }
      }
    }
    return [B, T];
  }
}

import { existsSync } from 'node:fs';
import type { CausalScorer, ScoringRow } from '@lrw/eval';
import { type CausalLM, createModel, type ModelConfig } from '@lrw/models';
import { noGrad, tensor, tidy } from '@lrw/tensor';
import { loadTrainerBackend } from '../backend.js';
import { CheckpointStore } from '../checkpoint-store.js';
import { parseTrainerConfig, type TrainerConfig } from '../config.js';
import { resolveModelConfig } from '../model-presets.js';
import type { DataIdentity } from '../resume-compat.js';
import { runPaths } from '../run-directory.js';
import { CliError } from './io.js';

export interface LoadedRun {
  model: CausalLM;
  config: TrainerConfig;
  step: number;
}

/**
 * The model of a run directory at its latest checkpoint, built from the resolved model config the
 * checkpoint records (preset plus overrides). A checkpoint without one (written before it was
 * recorded) is rebuilt the way trainRun builds a model without overrides: the preset fitted to
 * the dataset's vocabulary and the run's seqLen. The model lives on `backend` (default: the
 * backend the run trained on, its config's `backend`); checkpoints are host arrays, so any works.
 */
export async function loadRunModel(
  runDir: string,
  datasetVocabSize: number,
  backend?: string,
  /** The data to evaluate on: refused when its tokenizer is not the one the run trained on. */
  data?: { tokenizer: string; dir: string },
): Promise<LoadedRun> {
  const paths = runPaths(runDir);
  if (!existsSync(paths.checkpoints)) {
    throw new CliError(
      `${runDir} has no checkpoints/ folder.`,
      'pass the --out directory of a finished `lrw train` run (it checkpoints at the end).',
    );
  }
  const contents = await new CheckpointStore(paths.checkpoints).loadLatest();
  if (contents === undefined) {
    throw new CliError(
      `${paths.checkpoints} holds no checkpoint.`,
      'let the run reach its first checkpoint (or its end), or resume it with `lrw train --resume`.',
    );
  }
  const trained = (contents.parts as { dataset?: DataIdentity } | undefined)?.dataset;
  if (
    data !== undefined &&
    trained !== undefined &&
    (trained.tokenizer !== data.tokenizer || trained.vocabSize !== datasetVocabSize)
  ) {
    throw new CliError(
      `${runDir} was trained on data tokenized with ${trained.tokenizer} (vocabulary ${trained.vocabSize}); ${data.dir} is tokenized with ${data.tokenizer} (vocabulary ${datasetVocabSize}).`,
      `pass --data the dataset the run was trained on${trained.dir ? ` (${trained.dir})` : ''}, or one prepared with the same tokenizer.`,
    );
  }
  const config = parseTrainerConfig(contents.config, `${paths.checkpoints} (checkpoint config)`);
  // Checkpoints record the resolved model config (with any modelOverrides); older ones do not,
  // and are rebuilt from the preset as trainRun built them without overrides.
  const saved = (contents.parts as { modelConfig?: ModelConfig } | undefined)?.modelConfig;
  const modelConfig =
    saved ??
    resolveModelConfig(config.model, { vocabSize: datasetVocabSize, seqLen: config.seqLen });
  if (modelConfig.vocabSize < datasetVocabSize) {
    throw new CliError(
      `The checkpoint's model has a vocabulary of ${modelConfig.vocabSize}, smaller than the dataset's tokenizer (${datasetVocabSize}).`,
      'pass --data the prepared dataset the run was trained on.',
    );
  }
  const on = backend ?? config.backend;
  await loadTrainerBackend(on);
  const model = createModel(modelConfig, { seed: config.seed, backend: on });
  const state: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(contents.model)) state[name] = t.data;
  model.loadStateDict(state);
  model.eval();
  return { model, config, step: contents.step };
}

/**
 * @lrw/eval's CausalScorer over a model: rows of one call are right-padded to the longest
 * (a causal model's outputs at a position do not depend on later tokens), one forward pass,
 * then log-softmax and arg-max at the requested positions on the host in float64.
 */
export class ModelCausalScorer implements CausalScorer {
  readonly maxLength: number;

  constructor(
    private readonly model: CausalLM,
    maxLength?: number,
  ) {
    this.maxLength = maxLength ?? model.config.contextLength;
  }

  async scoreRows(rows: ScoringRow[]): Promise<{ logprobs: Float64Array; greedy: Uint8Array }[]> {
    if (rows.length === 0) return [];
    const T = Math.max(...rows.map((r) => r.tokens.length));
    const B = rows.length;
    const ids = new Int32Array(B * T);
    for (const [b, r] of rows.entries()) ids.set(r.tokens, b * T);
    const V = this.model.config.vocabSize;
    const backend = this.model.parameters()[0]?.backend.name;
    const out = noGrad(() =>
      tidy(() => this.model.forward(tensor(ids, { shape: [B, T], dtype: 'int32', backend }))),
    );
    let logits: Float32Array;
    try {
      logits = (await out.data()) as Float32Array; // any backend (no synchronous read)
    } finally {
      out.dispose();
    }
    return rows.map((r, b) => {
      const logprobs = new Float64Array(r.positions.length);
      const greedy = new Uint8Array(r.positions.length);
      for (let k = 0; k < r.positions.length; k++) {
        const base = (b * T + r.positions[k]!) * V;
        let max = Number.NEGATIVE_INFINITY;
        let arg = 0;
        for (let v = 0; v < V; v++) {
          const x = logits[base + v]!;
          if (x > max) {
            max = x;
            arg = v;
          }
        }
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(logits[base + v]! - max);
        const target = r.targets[k]!;
        logprobs[k] = logits[base + target]! - max - Math.log(sum);
        greedy[k] = arg === target ? 1 : 0;
      }
      return { logprobs, greedy };
    });
  }
}

/**
 * `toHuggingFaceStateAsync` gives what `toHuggingFaceState` gives (names, layouts, bits) on the
 * CPU backends; on WebGPU, where only the async form works, `saveHuggingFace` of a webgpu model is
 * checked in @lrw/trainer's webgpu-training test.
 */
import { describe, expect, it } from 'vitest';
import { createModel, toHuggingFaceState, toHuggingFaceStateAsync } from './hugging-face.js';
import { TINY_HF_CONFIGS } from './hugging-face.test-helpers.js';

const configs = TINY_HF_CONFIGS;

describe('toHuggingFaceStateAsync', () => {
  for (const config of configs) {
    for (const backend of ['cpu', 'cpu-reference']) {
      it(`${config.arch} on ${backend}: the same names, shapes and values as the sync form`, async () => {
        const model = createModel(config, { seed: 5, backend });
        const sync = toHuggingFaceState(model);
        const async_ = await toHuggingFaceStateAsync(model);
        expect([...async_.keys()]).toEqual([...sync.keys()]);
        for (const [name, t] of sync) expect(async_.get(name), name).toEqual(t);
        // GPT-2's Conv1D weights come out transposed: not just a copy of the parameters.
        if (config.arch === 'gpt2') {
          expect(async_.get('transformer.h.0.attn.c_attn.weight')?.shape).toEqual([8, 24]);
        }
        model.dispose();
      });
    }
  }
});

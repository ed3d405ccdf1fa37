import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createModel,
  fromHuggingFaceConfig,
  loadHuggingFace,
  saveHuggingFace,
  toHuggingFaceConfig,
} from './hugging-face.js';
import { TINY_HF_CONFIGS } from './hugging-face.test-helpers.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'lrw-hf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configs = TINY_HF_CONFIGS;

describe('Hugging Face save/load', () => {
  for (const config of configs) {
    it(`${config.arch}: save -> load gives identical tensors and config`, async () => {
      const model = createModel(config, { seed: 7 });
      const out = join(dir, config.arch);
      await saveHuggingFace(model, out);
      const back = await loadHuggingFace(out);
      expect(back.config).toEqual(model.config);
      const a = model.stateDict();
      for (const [name, t] of back.stateDict())
        expect(t.dataSync(), name).toEqual(a.get(name)!.dataSync());
      model.dispose();
      back.dispose();
    });
  }

  it('writes the names and layouts of GPT2LMHeadModel (Conv1D transposed, no tied lm_head)', async () => {
    const model = createModel(configs[0], { seed: 1 });
    const out = join(dir, 'gpt2-names');
    await saveHuggingFace(model, out);
    const f = await readSafetensors(join(out, 'model.safetensors'));
    expect(f.metadata).toEqual({ format: 'pt' });
    const names = [...f.tensors.keys()];
    expect(names).toContain('transformer.wte.weight');
    expect(names).toContain('transformer.h.1.attn.c_attn.bias');
    expect(names).not.toContain('lm_head.weight');
    expect(f.tensors.get('transformer.h.0.attn.c_attn.weight')!.shape).toEqual([8, 24]); // (in, out)
    expect(f.tensors.get('transformer.h.0.mlp.c_proj.weight')!.shape).toEqual([32, 8]);
    expect(names).toHaveLength(model.parameters().length);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: 8,
      n_layer: 2,
      n_head: 2,
      n_positions: 8,
      activation_function: 'gelu_new',
    });
    model.dispose();
  });

  it('writes the names of LlamaForCausalLM', async () => {
    const model = createModel(configs[1], { seed: 1 });
    const out = join(dir, 'llama-names');
    await saveHuggingFace(model, out);
    const f = await readSafetensors(join(out, 'model.safetensors'));
    expect(f.tensors.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([4, 8]);
    expect(f.tensors.has('model.layers.1.mlp.gate_proj.weight')).toBe(true);
    expect(f.tensors.has('model.norm.weight')).toBe(true);
    expect(f.tensors.get('lm_head.weight')!.shape).toEqual([19, 8]);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      num_key_value_heads: 1,
      intermediate_size: 12,
      tie_word_embeddings: false,
    });
    model.dispose();
  });

  it('accepts the hub layout of gpt2 (no transformer. prefix, attn.bias buffers, tied lm_head)', async () => {
    const model = createModel(configs[0], { seed: 3 });
    const out = join(dir, 'gpt2-hub');
    await saveHuggingFace(model, out);
    const f = await readSafetensors(join(out, 'model.safetensors'));
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, e] of f.tensors) {
      tensors.set(n.replace(/^transformer\./, ''), {
        shape: e.shape,
        data: new Float32Array(e.data.slice().buffer),
      });
    }
    tensors.set('h.0.attn.bias', { shape: [1, 1, 8, 8], data: new Float32Array(64) });
    tensors.set('lm_head.weight', tensors.get('wte.weight')!);
    await writeSafetensors(join(out, 'model.safetensors'), tensors);
    const back = await loadHuggingFace(out);
    expect(back.stateDict().get('blocks.1.mlp.fc.weight')!.dataSync()).toEqual(
      model.stateDict().get('blocks.1.mlp.fc.weight')!.dataSync(),
    );
    model.dispose();
    back.dispose();
  });

  it('BF16 save loads back within bf16 rounding', async () => {
    const model = createModel(configs[1], { seed: 5 });
    const out = join(dir, 'bf16');
    await saveHuggingFace(model, out, { dtype: 'BF16' });
    const back = await loadHuggingFace(out);
    const w = model.stateDict().get('lm_head.weight')!.dataSync();
    const b = back.stateDict().get('lm_head.weight')!.dataSync();
    for (let i = 0; i < w.length; i++)
      expect(Math.abs(b[i] - w[i])).toBeLessThanOrEqual(Math.abs(w[i]) * 2 ** -8);
    model.dispose();
    back.dispose();
  });

  it('refuses weights that do not match the config, naming the tensor', async () => {
    const model = createModel(configs[0], { seed: 1 });
    const out = join(dir, 'mismatch');
    await saveHuggingFace(model, out);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    writeFileSync(join(out, 'config.json'), JSON.stringify({ ...cfg, n_embd: 16 }));
    await expect(loadHuggingFace(out)).rejects.toThrow(
      /mismatch\/model\.safetensors: 'transformer\.[a-z0-9_.]+' has shape \[[0-9,]+\], the model's [a-z0-9_.]+ needs \[[0-9,]+\]\. HINT: the config\.json does not match/,
    );
    writeFileSync(join(out, 'config.json'), JSON.stringify({ ...cfg, n_layer: 3 }));
    await expect(loadHuggingFace(out)).rejects.toThrow(/missing \(transformer.h.2/);
    model.dispose();
  });

  it('a corrupted model.safetensors gives a clear error', async () => {
    const model = createModel(configs[0], { seed: 1 });
    const out = join(dir, 'corrupt');
    await saveHuggingFace(model, out);
    const p = join(out, 'model.safetensors');
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, bytes.length - 100));
    await expect(loadHuggingFace(out)).rejects.toThrow(
      /model\.safetensors: tensor .* past the .* data bytes present\. HINT/,
    );
    model.dispose();
  });

  it('config.json: our configs round-trip; unsupported fields are refused', () => {
    for (const c of configs) expect(fromHuggingFaceConfig(toHuggingFaceConfig(c))).toMatchObject(c);
    expect(() => fromHuggingFaceConfig({ model_type: 'bert' })).toThrow(
      /model_type "bert" is not supported/,
    );
    expect(() =>
      fromHuggingFaceConfig({
        ...toHuggingFaceConfig(configs[1]),
        rope_scaling: { type: 'linear' },
      }),
    ).toThrow(/rope_scaling/);
    expect(() => fromHuggingFaceConfig({ model_type: 'gpt2', n_embd: 'x' })).toThrow(
      /field 'vocab_size' must be a number/,
    );
  });
});

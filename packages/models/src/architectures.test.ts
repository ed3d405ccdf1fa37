import { expect, describe as group, it } from 'vitest';
import { ARCHITECTURES, architecture } from './architectures.js';
import { countParameters, type ModelConfig, resolveConfig } from './config.js';
import { createModel, fromHuggingFaceConfig, toHuggingFaceConfig } from './hugging-face.js';
import { TINY_HF_CONFIGS } from './hugging-face.test-helpers.js';

group('one spec per architecture', () => {
  it('lists each under its own name, with distinct Hugging Face model types', () => {
    expect(Object.keys(ARCHITECTURES)).toEqual(['gpt2', 'llama']);
    for (const [name, spec] of Object.entries(ARCHITECTURES)) expect(spec.arch).toBe(name);
    const types = Object.values(ARCHITECTURES).map((s) => s.huggingFace.modelType);
    expect(new Set(types).size).toBe(types.length);
  });

  it('an unknown arch is an error naming the known ones, everywhere (never read as another)', () => {
    const mamba = { ...TINY_HF_CONFIGS[0], arch: 'mamba' } as unknown as ModelConfig;
    const message = /arch = "mamba" is not a known architecture; use one of gpt2, llama/;
    expect(() => architecture('mamba')).toThrow(message);
    expect(() => resolveConfig(mamba)).toThrow(message);
    expect(() => countParameters(mamba)).toThrow(message);
    expect(() => createModel(mamba)).toThrow(message);
    expect(() => toHuggingFaceConfig(mamba)).toThrow(message);
    expect(() => architecture('toString')).toThrow(/not a known architecture/);
    expect(() => fromHuggingFaceConfig({ model_type: 'mamba' })).toThrow(
      /model_type "mamba" is not supported; use one of 'gpt2', 'llama'/,
    );
  });

  for (const config of TINY_HF_CONFIGS) {
    it(`${config.arch}: the spec builds the model, names every parameter once, round-trips config.json`, () => {
      const spec = architecture(config.arch);
      const model = createModel(config);
      try {
        expect(model.config.arch).toBe(config.arch);
        expect(model.numParameters()).toBe(countParameters(config).total);
        const names = model.namedParameters().map(([ours]) => spec.hfName(ours).name);
        expect(new Set(names).size).toBe(names.length);
        // A stored name as hfName writes it is read back as itself, and is never ignorable.
        for (const name of names) {
          expect(spec.hfStoredName(name)).toBe(name);
          expect(spec.hfIgnorable(name)).toBe(false);
        }
        const json = toHuggingFaceConfig(config);
        expect(json.model_type).toBe(spec.huggingFace.modelType);
        expect(json.architectures).toEqual([spec.huggingFace.className]);
        expect(resolveConfig(fromHuggingFaceConfig(json))).toEqual(resolveConfig(config));
      } finally {
        model.dispose();
      }
    });
  }
});

import { expect, describe as group, it } from 'vitest';
import { countParameters, describe, type ModelConfig, type PRESETS, preset } from './config.js';
import { GPT2 } from './gpt2.js';
import { Llama } from './llama.js';

group('parameter counts from the config (nothing allocated)', () => {
  it("gpt2 equals Hugging Face's published 124,439,808 (tied head)", () => {
    expect(countParameters(preset('gpt2')).total).toBe(124_439_808);
  });

  it('gpt2-mini is gpt2 with a 512-row position table', () => {
    expect(countParameters(preset('gpt2-mini')).total).toBe(124_439_808 - 512 * 768);
  });

  it("llama-7b equals Llama-2-7b's published 6,738,415,616", () => {
    const p = countParameters(preset('llama-7b'));
    expect(p.total).toBe(6_738_415_616);
    expect(p.head).toBe(32000 * 4096);
  });

  it('the paper-sized and CPU presets have the expected sizes', () => {
    const total = (n: keyof typeof PRESETS) => countParameters(preset(n)).total;
    expect(total('gpt2-small')).toBe(38_597_376 + 393_216 + 24 * 7_087_872 + 1536);
    expect(total('gpt2-medium')).toBe(38_597_376 + 393_216 + 36 * 7_087_872 + 1536);
    expect(total('llama-1.4b')).toBe(1_364_297_728);
    // 4 blocks of 12 d^2 + 13 d (d = 128), embeddings (257 + 256) d, final LayerNorm 2d
    expect(total('gpt2-nano')).toBe(4 * (12 * 128 * 128 + 13 * 128) + 513 * 128 + 256);
    expect(total('gpt2-nano')).toBeCloseTo(0.86e6, -4);
    expect(total('gpt2-micro')).toBe(6 * (12 * 384 * 384 + 13 * 384) + 769 * 384 + 768);
  });

  const small: ModelConfig[] = [
    preset('gpt2-nano'),
    { arch: 'gpt2', vocabSize: 50, contextLength: 9, dModel: 12, nLayers: 3, nHeads: 3, dFF: 20 },
    {
      arch: 'llama',
      vocabSize: 40,
      contextLength: 16,
      dModel: 16,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
    },
    { arch: 'llama', vocabSize: 33, contextLength: 8, dModel: 24, nLayers: 1, nHeads: 2, dFF: 40 },
  ];
  for (const c of small) {
    it(`formula equals the instantiated model's count (${c.arch}, d=${c.dModel})`, () => {
      const m = c.arch === 'gpt2' ? new GPT2(c) : new Llama(c);
      expect(m.numParameters()).toBe(countParameters(c).total);
      m.dispose();
    });
  }
});

group('describe and presets', () => {
  it('prints architecture and counts', () => {
    const d = describe('gpt2');
    expect(d.parameters.total).toBe(124_439_808);
    expect(d.text).toContain('124,439,808');
    expect(d.text).toContain('12 layers, 12 heads');
    expect(describe('llama-7b').text).toContain('d_ff 11008');
  });

  it('refuses unknown presets and invalid configs with the field name', () => {
    expect(() => preset('gpt5' as never)).toThrow(/unknown name 'gpt5'; use one of gpt2/);
    expect(() => countParameters({ ...preset('gpt2'), nHeads: 7 })).toThrow(
      /dModel = 768 must be divisible by nHeads \(7\)/,
    );
    expect(() => countParameters({ ...preset('llama-7b'), nKvHeads: 5 } as ModelConfig)).toThrow(
      /nKvHeads/,
    );
    expect(() => countParameters({ ...preset('gpt2'), vocabSize: 0 })).toThrow(
      /vocabSize = 0 must be a positive integer/,
    );
  });
});

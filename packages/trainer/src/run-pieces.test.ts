import { countParameters } from '@lrw/models';
import { describe, expect, it } from 'vitest';
import { streamMixture } from './data-mixture.js';
import { STATIC_DOMAIN_MIXTURES } from './domain-mixtures.js';
import { resolveModelConfig } from './model-presets.js';
import { temperatureConfig } from './trainer.js';

const SLIMPAJAMA = [
  'RedPajamaArXiv',
  'RedPajamaBook',
  'RedPajamaC4',
  'RedPajamaCommonCrawl',
  'RedPajamaGithub',
  'RedPajamaStackExchange',
  'RedPajamaWikipedia',
];

describe('streamMixture', () => {
  it("maps the paper's DoGE vector onto SlimPajama's domain names", () => {
    const m = streamMixture('doge', SLIMPAJAMA) as Record<string, number>;
    const doge = STATIC_DOMAIN_MIXTURES.doge;
    const total = Object.values(doge).reduce((a, b) => a + b, 0);
    expect(m['RedPajamaCommonCrawl']).toBeCloseTo(doge.cc / total, 12);
    expect(m['RedPajamaArXiv']).toBeCloseTo(doge.arxiv / total, 12);
    expect(Object.values(m).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('passes uniform through, normalizes explicit weights and zeroes domains left out', () => {
    expect(streamMixture('uniform', ['a', 'b'])).toBe('uniform');
    expect(streamMixture({ a: 3, b: 1 }, ['a', 'b', 'c'])).toEqual({ a: 0.75, b: 0.25, c: 0 });
    expect(() => streamMixture({ d: 1 }, ['a'])).toThrow(/names "d".*its domains: a/);
  });
});

describe('resolveModelConfig', () => {
  it('has the benchmark tiny config at 7.2M parameters', () => {
    const tiny = resolveModelConfig('tiny');
    expect(tiny).toMatchObject({ vocabSize: 50304, nLayers: 4, nHeads: 4, dModel: 128 });
    expect(countParameters(tiny).total / 1e6).toBeCloseTo(7.2, 1);
  });

  it('fits the vocabulary and context to the data, never shrinking them', () => {
    expect(resolveModelConfig('nano', { vocabSize: 50257, seqLen: 512 })).toMatchObject({
      vocabSize: 50257,
      contextLength: 512,
    });
    expect(resolveModelConfig('tiny', { vocabSize: 257, seqLen: 64 })).toMatchObject({
      vocabSize: 50304,
      contextLength: 128,
    });
  });
});

describe('temperatureConfig', () => {
  it("converts the config's plain-mean warm-up to @lrw/strategies' form", () => {
    expect(
      temperatureConfig({
        kind: 'plain-mean-warmup',
        warmupSteps: 1000,
        // biome-ignore lint/suspicious/noThenProperty: the config's field name
        then: { kind: 'constant', r: 0.4 },
      }),
    ).toEqual({
      kind: 'plain-mean-warmup',
      warmupSteps: 1000,
      after: { kind: 'constant', r: 0.4 },
    });
  });
});

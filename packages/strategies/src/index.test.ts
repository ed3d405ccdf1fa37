import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as distributed from './distributed.js';
import * as api from './index.js';
import * as perSample from './per-sample-loss.js';

describe('@lrw/strategies public surface', () => {
  it('exports the public names and nothing by accident', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'Reweighter',
        'ReweightError',
        'STRATEGIES',
        'STRATEGY_NAMES',
        'computeWeights',
        'constantTemperature',
        'cosineTemperature',
        'exponentialTemperature',
        'linearTemperature',
        'normalizeLosses',
        'plainMeanWarmup',
        'stepTemperature',
        'strategyScores',
        'temperatureSchedule',
        'temperatureSoftmax',
        'weightStats',
      ].sort(),
    );
  });

  it('has the data-parallel, accumulation and per-sample-loss helpers in subpath entries', () => {
    expect(Object.keys(distributed).sort()).toEqual(
      ['accumulationCoefficients', 'rankLossCoefficients', 'rankWeightSlice'].sort(),
    );
    expect(Object.keys(perSample)).toEqual(['perSampleLoss']);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(Object.keys(pkg.exports)).toEqual([
      '.',
      './distributed',
      './per-sample-loss',
      './package.json',
    ]);
    for (const [name, file] of [
      ['./distributed', 'distributed'],
      ['./per-sample-loss', 'per-sample-loss'],
    ]) {
      expect(pkg.exports[name]).toEqual({
        types: `./dist/${file}.d.ts`,
        import: `./dist/${file}.js`,
        default: `./dist/${file}.js`, // require() on Node >= 20.19
      });
    }
  });

  it('has zero runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.name).toBe('@lrw/strategies');
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
    expect(pkg.sideEffects).toBe(false);
  });
});

describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('shows examples/plain-loop.mjs verbatim (minus its header comment)', () => {
    const example = readFileSync(new URL('../examples/plain-loop.mjs', import.meta.url), 'utf8');
    const code = example
      .split('\n')
      .filter((line, i) => !(i < 2 && line.startsWith('//')))
      .join('\n');
    expect(readme).toContain('```js\n' + code + '```');
  });
});

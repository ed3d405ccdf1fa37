import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@lrw/strategies public surface', () => {
  it('exports the names of the issue and nothing by accident', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'Reweighter',
        'ReweightError',
        'STRATEGY_NAMES',
        'accumulationCoefficients',
        'computeWeights',
        'constantTemperature',
        'cosineTemperature',
        'exponentialTemperature',
        'linearTemperature',
        'normalizeLosses',
        'perSampleLoss',
        'plainMeanWarmup',
        'rankLossCoefficients',
        'rankWeightSlice',
        'stepTemperature',
        'strategyScores',
        'temperatureSchedule',
        'temperatureSoftmax',
        'weightStats',
      ].sort(),
    );
  });

  it('has zero runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.name).toBe('@lrw/strategies');
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
    expect(pkg.sideEffects).toBe(false);
  });
});

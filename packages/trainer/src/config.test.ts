import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRATEGIES } from '@lrw/strategies';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultTemperature,
  defaultTrainerConfig,
  loadTrainerConfig,
  METHODS,
  methodsHelp,
  parseTrainerConfig,
} from './config.js';
import { normalizeDomainWeights, STATIC_DOMAIN_MIXTURES } from './domain-mixtures.js';
import { lrSchedule } from './lr-schedule.js';
import { TrainerError } from './trainer-error.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): TrainerError {
  try {
    fn();
  } catch (e) {
    if (TrainerError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a TrainerError');
}

describe('parseTrainerConfig', () => {
  it('defaults to the paper GPT-2 recipe (spec section 7)', () => {
    const c = defaultTrainerConfig();
    expect(c.lr).toEqual({
      kind: 'cosine',
      peakLr: 5e-4,
      endLr: 1e-4,
      warmupSteps: 500,
      totalSteps: 20_000,
    });
    expect(c.optimizer.weightDecay).toBe(0.01);
    expect(c.gradClip).toBe(1);
    expect(c.method).toBe('uniform');
    expect(c.temperature).toBeUndefined();
    expect(c.guard).toEqual({ maxConsecutiveBad: 5 });
    // the lr section is a valid LrScheduleConfig as it stands
    expect(lrSchedule(c.lr)(20_000)).toBe(1e-4);
  });

  it('scales the default warm-ups with the steps (2.5% and 5%: the paper 500 and 1000 of 20,000)', () => {
    // a 20-step config without an lr block is valid: no warm-up of 500 the user never set
    const short = parseTrainerConfig({ steps: 20, method: 'linupper' });
    expect(short.lr).toEqual({
      kind: 'cosine',
      peakLr: 5e-4,
      endLr: 1e-4,
      warmupSteps: 1, // round(20 * 0.025) = round(0.5)
      totalSteps: 20,
    });
    expect(short.temperature).toMatchObject({ kind: 'plain-mean-warmup', warmupSteps: 1 });
    expect(parseTrainerConfig({ steps: 2000, method: 'extremes' })).toMatchObject({
      lr: { warmupSteps: 50 },
      temperature: { warmupSteps: 100 },
    });
    expect(defaultTrainerConfig().temperature).toBeUndefined();
    expect(parseTrainerConfig({ method: 'linupper' }).temperature).toMatchObject({
      warmupSteps: 1000,
    });
  });

  it('fills in the method default temperature and the decay length from steps', () => {
    const c = parseTrainerConfig({
      method: 'linupper',
      steps: 300,
      lr: { kind: 'linear', peakLr: 1e-3, endLr: 0, warmupSteps: 30 },
    });
    expect(c.lr).toMatchObject({ totalSteps: 300 });
    expect(c.temperature).toEqual({
      kind: 'plain-mean-warmup',
      warmupSteps: 15, // 5% of the steps, as the paper's 1000 of 20,000
      // biome-ignore lint/suspicious/noThenProperty: @lrw/strategies' TemperatureScheduleConfig names it; an object, never a function
      then: { kind: 'constant', r: 0.4 },
    });
    // biome-ignore lint/suspicious/noThenProperty: @lrw/strategies' TemperatureScheduleConfig names it; an object, never a function
    expect(defaultTemperature('quadratic')).toMatchObject({ then: { r: 1 } });
    // Every method's default r is its @lrw/strategies descriptor's; uniform has none.
    for (const method of METHODS) {
      const r = STRATEGIES[method].defaultR;
      expect(defaultTemperature(method)).toEqual(
        r === Infinity
          ? undefined
          : // biome-ignore lint/suspicious/noThenProperty: the config's field name
            { kind: 'plain-mean-warmup', warmupSteps: 1000, then: { kind: 'constant', r } },
      );
    }
    expect(methodsHelp()).toBe(
      'uniform, linupper (r 0.4), quadratic (r 1), extremes (r 0.4), linear (r 1), dro-kl (r 1)',
    );
    const explicit = parseTrainerConfig({
      method: 'extremes',
      temperature: { kind: 'cosine', r0: 100, r: 0.4, spanSteps: 50 },
    });
    expect(explicit.temperature).toEqual({
      kind: 'cosine',
      r0: 100,
      r: 0.4,
      spanSteps: 50,
      startStep: 0,
    });
  });

  it('round-trips through JSON unchanged', () => {
    const c = parseTrainerConfig({
      method: 'quadratic',
      domainWeights: 'doremi',
      gradClip: null,
      seed: 7,
    });
    expect(parseTrainerConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });

  it('lists every bad field with its value, the rule and an example', () => {
    const e = errorOf(() =>
      parseTrainerConfig(
        { steps: -1, batchSize: 2.5, method: 'foo', lr: { kind: 'step' }, gradClip: 0 },
        'run.json',
      ),
    );
    expect(e.code).toBe('invalid-config');
    expect(e.message).toContain('run.json: 5 invalid fields:');
    expect(e.message).toContain('  - steps = -1: must be at least 1 step');
    expect(e.message).toContain('  - batchSize = 2.5: must be a whole number of samples');
    expect(e.message).toContain(
      '  - method = "foo": must be one of "uniform", "linupper", "quadratic", "extremes", "linear", "dro-kl"',
    );
    expect(e.message).toContain(
      '  - lr.kind = "step": kind must be one of "cosine", "linear", "constant" (e.g. "lr": {',
    );
    expect(e.message).toContain(
      '  - gradClip = 0: must be a finite number > 0, or null for no clipping',
    );
    expect(e.message).toMatch(/\nHINT: fix the fields listed/);
  });

  it('checks fields against each other', () => {
    const e = errorOf(() =>
      parseTrainerConfig({
        steps: 100,
        lr: { kind: 'cosine', peakLr: 1e-4, endLr: 1e-3, warmupSteps: 500 },
      }),
    );
    expect(e.message).toContain('lr.endLr = 0.001: must be <= lr.peakLr (0.0001)');
    expect(e.message).toContain('lr.warmupSteps = 500: must be <= the decay length 100');
    expect(() => parseTrainerConfig({ temperature: { kind: 'constant', r: 1 } })).toThrow(
      /temperature = .*has no effect with method "uniform"/,
    );
  });

  it('suggests the field meant for an unknown one', () => {
    const e = errorOf(() =>
      parseTrainerConfig({ modle: 'nano', optimizer: { beta3: 0.9 }, zzzzzzzz: 1 }),
    );
    expect(e.message).toContain('modle: unknown field; did you mean "model"?');
    expect(e.message).toContain('optimizer.beta3: unknown field; did you mean "beta1"?');
    expect(e.message).toMatch(/zzzzzzzz: unknown field; known fields: model, seqLen, /);
  });

  it('validates nested temperature and domain weights', () => {
    const e = errorOf(() =>
      parseTrainerConfig({
        method: 'linupper',
        temperature: {
          kind: 'plain-mean-warmup',
          warmupSteps: 10,
          // biome-ignore lint/suspicious/noThenProperty: @lrw/strategies' TemperatureScheduleConfig names it; an object, never a function
          then: { kind: 'constant', r: -1 },
        },
        domainWeights: { arxiv: -1 },
      }),
    );
    expect(e.message).toContain('temperature.then.r = -1: must be a finite number > 0');
    expect(e.message).toContain('domainWeights.arxiv = -1: must be >= 0');
    expect(() => parseTrainerConfig({ method: 'linupper', temperature: { kind: 'wat' } })).toThrow(
      /temperature\.kind = "wat": kind must be one of "constant", "step", "linear", "cosine", "exponential", "plain-mean-warmup"/,
    );
  });
});

describe('domain mixtures', () => {
  it('holds the Table 3 vectors of the spec and normalizes them', () => {
    expect(
      Object.values(STATIC_DOMAIN_MIXTURES.doge).reduce((a: number, b) => a + b, 0),
    ).toBeCloseTo(1, 12);
    const doremi = normalizeDomainWeights(STATIC_DOMAIN_MIXTURES.doremi);
    expect(Object.values(doremi).reduce((a, b) => a + b)).toBeCloseTo(1, 15);
    expect(doremi['cc']).toBeCloseTo(0.381 / 1.00006, 15);
  });
});

describe('loadTrainerConfig', () => {
  async function file(name: string, text: string): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'lrw-config-'));
    dirs.push(d);
    const p = join(d, name);
    await writeFile(p, text);
    return p;
  }

  it('loads a JSON file', async () => {
    const p = await file(
      'run.json',
      JSON.stringify({ method: 'linupper', steps: 2000, outputDir: 'out' }),
    );
    expect(await loadTrainerConfig(p)).toMatchObject({
      method: 'linupper',
      steps: 2000,
      outputDir: 'out',
    });
  });

  it('names the file in every error', async () => {
    const syntax = await file('bad.json', '{\n  "steps": 10,\n  "method": "linupper",\n}\n');
    await expect(loadTrainerConfig(syntax)).rejects.toThrow(
      new RegExp(`Config file ${syntax} is not valid JSON at line 4`),
    );
    const invalid = await file(
      'invalid.json',
      '{"steps": 0, "lr": {"kind": "constant", "lr": 1e-3}}',
    );
    await expect(loadTrainerConfig(invalid)).rejects.toThrow(
      `${invalid}: 1 invalid field:\n  - steps = 0: must be at least 1 step`,
    );
    const array = await file('array.json', '[1]');
    await expect(loadTrainerConfig(array)).rejects.toThrow(/holds \[1\], not a JSON object/);
    await expect(
      loadTrainerConfig(join(tmpdir(), 'no-such-lrw-config.json')),
    ).rejects.toMatchObject({ code: 'config-file' });
  });
});

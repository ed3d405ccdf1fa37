import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './cli-main.js';

function capture(argv: string[]) {
  let out = '';
  let err = '';
  const code = main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('lrw-theory CLI', () => {
  it('--help prints usage and exits 0', () => {
    const r = capture(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/lrw-theory regression --out DIR/);
  });

  it('usage errors name the problem and exit 2', () => {
    expect(capture([]).code).toBe(2);
    const noOut = capture(['regression']);
    expect(noOut.code).toBe(2);
    expect(noOut.err).toMatch(/needs --out DIR/);
    const bad = capture(['regression', '--out', '/tmp/x', '--seeds', 'two']);
    expect(bad.err).toMatch(/--seeds must be an integer >= 1, got 'two'/);
    expect(capture(['plot']).err).toMatch(/unknown command 'plot'/);
    expect(capture(['regression', '--nope']).err).toMatch(/Unknown option '--nope'/);
    expect(capture(['regression', '--out', '/tmp/x', '--setup', 'mine']).err).toMatch(
      /--setup must be one of appendix-b, scaled-targets, got 'mine'/,
    );
  });

  it('regression writes JSON and SVG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrw-theory-'));
    try {
      const r = capture([
        'regression',
        '--out',
        dir,
        '--seeds',
        '2',
        '--steps',
        '40',
        '--batch',
        '8',
        '--eval-every',
        '10',
        '--setup',
        'scaled-targets',
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/\| dro-kl \|/);
      const json = JSON.parse(readFileSync(join(dir, 'regression.json'), 'utf8'));
      expect(json.experiment).toBe('regression-with-outliers');
      expect(json.config.seeds).toEqual([0, 1]);
      expect(json.config.setup).toBe('scaled-targets');
      expect(json.config.data.bias).toBe(false);
      expect(json.evalSteps).toEqual([0, 10, 20, 30, 40]);
      expect(existsSync(join(dir, 'regression.svg'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

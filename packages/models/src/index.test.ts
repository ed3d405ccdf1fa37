import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@lrw/models entry point and README', () => {
  it('names the published package', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(api.packageName).toBe(pkg.name);
  });

  it('shows examples/quickstart.mjs verbatim (minus its header comment)', () => {
    const example = readFileSync(new URL('../examples/quickstart.mjs', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(example.split('\n').slice(2).join('\n').trim());
  });

  it('the README table agrees with countParameters for every preset', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(api.PRESETS) as api.PresetName[]) {
      const n = api.countParameters(api.preset(name)).total.toLocaleString('en-US');
      expect(readme, name).toMatch(new RegExp(`\\| \`${name}\`[^\\n]*\\| ${n}`));
    }
  });

  it('the quickstart example runs: losses finite, reload identical', async () => {
    const log = console.log;
    console.log = () => {};
    try {
      // @ts-expect-error: an .mjs example without type declarations
      const { main } = await import('../examples/quickstart.mjs');
      const r = await main();
      expect(r.same).toBe(true);
      expect(r.losses.every((l: number) => Number.isFinite(l) && l > 4)).toBe(true); // ~ln 257 at init
    } finally {
      console.log = log;
    }
  });
});

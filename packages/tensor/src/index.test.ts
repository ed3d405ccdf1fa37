import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageName } from './index.js';

describe('@lrw/tensor entry point', () => {
  it('names the published package', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(packageName).toBe(pkg.name);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readmeSnippets, runSnippet } from '@lrw/config/readme-snippets';
import { describe, expect, it } from 'vitest';

// Every code block of the README runs as a program against the built package (dist/, as a user
// imports it by name), and prints the output the README states.
const dir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const snippets = readmeSnippets(readme);

describe('README code blocks', () => {
  it('has the examples it promises: a loop, TF.js, data parallelism, accumulation', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(7);
    const all = snippets.map((s) => s.code).join('\n');
    for (const use of [
      "from '@tensorflow/tfjs'",
      'rankWeightSlice(',
      'accumulationCoefficients(',
    ]) {
      expect(all).toContain(use);
    }
  });

  for (const snippet of snippets) {
    it(`the block at line ${snippet.line} runs${snippet.output ? ' and prints its stated output' : ''}`, async () => {
      const run = await runSnippet(snippet, dir);
      expect(run.stderr.includes('Error') ? run.stderr : '').toBe('');
      expect(run.status).toBe(0);
      if (snippet.output !== undefined) expect(run.stdout).toBe(snippet.output);
    });
  }
});

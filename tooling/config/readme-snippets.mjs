// Every ```js and ```ts block of a README is a complete program: `readmeSnippets` extracts them,
// `runSnippet` runs one as an ES module with node (TypeScript through esbuild's type stripping),
// from a folder where the packages resolve by name as a user's project would resolve them.
// A block followed by "Output:" (or a sentence ending in "prints:") and a ```text block states
// its output: the test compares it, line for line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The js/ts code blocks of `markdown`, each with its 1-based line and the text block of its
 * stated output (undefined when the README states none).
 * @param {string} markdown
 * @returns {{ lang: 'js' | 'ts', code: string, line: number, output: string | undefined }[]}
 */
export function readmeSnippets(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    blocks.push({ lang: open[1], start: i, end, code: `${lines.slice(i + 1, end).join('\n')}\n` });
    i = end;
  }
  const snippets = [];
  for (let k = 0; k < blocks.length; k++) {
    const b = blocks[k];
    if (b.lang !== 'js' && b.lang !== 'ts') continue;
    const next = blocks[k + 1];
    let output;
    if (next?.lang === 'text') {
      const between = lines
        .slice(b.end + 1, next.start)
        .join(' ')
        .trim();
      if (/(^|[.\s])Output:$/i.test(between) || /prints:$/.test(between)) output = next.code;
    }
    snippets.push({ lang: b.lang, code: b.code, line: b.start + 1, output });
  }
  return snippets;
}

/**
 * Runs `code` as an ES module with node in a temporary file inside `dir` (so bare imports
 * resolve through the workspace's node_modules), and returns its exit code and output.
 * @param {{ lang: 'js' | 'ts', code: string }} snippet
 * @param {string} dir
 * @param {number} [timeoutMs]
 */
export async function runSnippet(snippet, dir, timeoutMs = 120_000) {
  let code = snippet.code;
  if (snippet.lang === 'ts') {
    const { transform } = await import('esbuild');
    code = (await transform(code, { loader: 'ts', format: 'esm' })).code;
  }
  const folder = mkdtempSync(join(resolve(dir), '.readme-snippet-'));
  const file = join(folder, 'snippet.mjs');
  writeFileSync(file, code);
  try {
    const run = spawnSync(process.execPath, [file], {
      cwd: folder,
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, error: run.error };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Registers the vitest tests of a README: every js/ts block runs (from `dir`, the package
 * folder, against its built dist/ as a user imports it by name) and prints its stated output;
 * `mustUse` lists strings that some block must contain (the examples the README promises).
 * @param {URL} readmeUrl
 * @param {{ mustUse?: string[], timeoutMs?: number }} [options]
 */
export async function testReadmeSnippets(readmeUrl, options = {}) {
  const { describe, expect, it } = await import('vitest');
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const { dirname } = await import('node:path');
  const path = fileURLToPath(readmeUrl);
  const snippets = readmeSnippets(readFileSync(path, 'utf8'));
  describe(`${path.split('/').slice(-2).join('/')} code blocks`, () => {
    it('has the examples it promises', () => {
      expect(snippets.length).toBeGreaterThan(0);
      const all = snippets.map((s) => s.code).join('\n');
      for (const use of options.mustUse ?? []) expect(all).toContain(use);
    });
    for (const snippet of snippets) {
      const what = snippet.output === undefined ? 'runs' : 'runs and prints its stated output';
      it(
        `the block at line ${snippet.line} ${what}`,
        async () => {
          const run = await runSnippet(snippet, dirname(path), options.timeoutMs);
          expect(run.error).toBeUndefined();
          expect(run.status === 0 ? '' : run.stderr).toBe('');
          if (snippet.output !== undefined) expect(run.stdout).toBe(snippet.output);
        },
        (options.timeoutMs ?? 120_000) + 10_000,
      );
    }
  });
}

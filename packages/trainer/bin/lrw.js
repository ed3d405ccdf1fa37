#!/usr/bin/env node
// The `lrw` command. This file is committed (dist/ is built), so npm links the command when it
// installs the workspace, before any build: `npm ci && npm run build`, then `npx lrw`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'lrw: the CLI is not built (packages/trainer/dist/cli/main.js is missing).\n' +
      'HINT: run `npm run build` at the repository root, then `npx lrw --help`.\n',
  );
  process.exit(1);
}
// `lrw --help | head`: the reader left; stop quietly, as other commands do, not with a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
try {
  await import(main.href);
} catch (e) {
  // A workspace package the CLI imports is not built yet (only part of the build ran).
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !/[/\\]dist[/\\]/.test(String(e.message))) throw e;
  process.stderr.write(
    `lrw: ${e.message}\nHINT: run \`npm run build\` at the repository root to build every package.\n`,
  );
  process.exit(1);
}

#!/usr/bin/env node
// The `lrw-theory` command. Committed (dist/ is built) so that npm links it at install time,
// before the build; `npx lrw-theory` works once `npm run build` has run.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'lrw-theory: not built (packages/theory/dist/cli.js is missing).\n' +
      'HINT: run `npm run build` at the repository root, then `npx lrw-theory --help`.\n',
  );
  process.exit(1);
}
await import(cli.href);

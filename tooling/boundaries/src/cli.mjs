#!/usr/bin/env node
import { checkBoundaries, loadAllowed } from './check-boundaries.mjs';

const packagesDir = new URL('../../../packages', import.meta.url).pathname;
const violations = checkBoundaries(packagesDir, loadAllowed());
for (const v of violations) console.error(`${v.where}: ${v.reason}`);
console.log(
  violations.length ? `${violations.length} boundary violation(s)` : 'package boundaries: ok',
);
process.exit(violations.length ? 1 : 0);

#!/usr/bin/env node
import { checkBoundaries, loadAllowed } from './check-boundaries.mjs';
import { describeCycle, findImportCycles, sharedVerbatimModuleSyntax } from './import-cycles.mjs';

const packagesDir = new URL('../../../packages', import.meta.url).pathname;
const violations = checkBoundaries(packagesDir, loadAllowed());
for (const v of violations) console.error(`${v.where}: ${v.reason}`);
const cycles = findImportCycles(packagesDir, {
  verbatimModuleSyntax: sharedVerbatimModuleSyntax(),
});
for (const c of cycles) console.error(describeCycle(c));
const problems = violations.length + cycles.length;
console.log(
  problems
    ? `${violations.length} boundary violation(s), ${cycles.length} runtime import cycle(s)`
    : 'package boundaries and import cycles: ok',
);
process.exit(problems ? 1 : 0);

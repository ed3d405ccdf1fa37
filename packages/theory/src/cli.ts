#!/usr/bin/env node
// The `lrw-theory` bin (package.json "bin"); the command itself lives in cli-main.ts.
import { main } from './cli-main.js';

process.exitCode = main(process.argv.slice(2));

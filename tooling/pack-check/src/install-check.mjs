#!/usr/bin/env node
// Packs every published package, installs the tarballs into a fresh project (external
// dependencies resolved by npm as for any user: metadata from the registry, tarballs from the
// cache `npm ci` filled) and uses them the ways a
// user would: ES `import` of every export, CommonJS `require()` of every export (Node >= 20.19
// loads the ES modules), a TypeScript project with `module: commonjs` and one with
// `module: nodenext` in a CommonJS package (compiled with the repository's TypeScript, then
// run), and the installed `lrw` and `lrw-theory` commands. Prints each step's time.
// Usage: npm run pack-check (builds first); exit code 0 when every check passes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishedPackages, root } from './packages.mjs';

const started = performance.now();
const work = mkdtempSync(join(tmpdir(), 'lrw-pack-install-'));
const app = join(work, 'app');
const tarballs = join(work, 'tarballs');
mkdirSync(app);
mkdirSync(tarballs);
const packages = publishedPackages();
let failures = 0;

function step(name, fn) {
  const t = performance.now();
  try {
    fn();
    console.log(`ok   ${name} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name} (${((performance.now() - t) / 1000).toFixed(1)} s)\n${e.message}`);
  }
}
function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`.trim());
  }
  return r.stdout;
}

/** Every entry point: package name plus each exports subpath. */
const specifiers = packages.flatMap(({ pkg }) =>
  Object.keys(pkg.exports)
    .filter((s) => s !== './package.json')
    .map((s) => (s === '.' ? pkg.name : `${pkg.name}/${s.slice(2)}`)),
);
// A computation through the package, to compare the three ways of loading it.
const weightsCall = `computeWeights([0.5, 1.5, 2.5, 4], { strategy: 'linupper', r: 0.5 })`;

step(`npm pack ${packages.length} packages`, () => {
  const workspaces = packages.flatMap(({ pkg }) => ['--workspace', pkg.name]);
  sh('npm', ['pack', '--ignore-scripts', '--pack-destination', tarballs, ...workspaces], root);
});

step('npm install the tarballs into a fresh project (--prefer-offline)', () => {
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'lrw-install-check', version: '0.0.0', private: true }, null, 2)}\n`,
  );
  const files = execFileSync('ls', [tarballs], { encoding: 'utf8' }).split('\n').filter(Boolean);
  sh(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      ...files.map((f) => join(tarballs, f)),
    ],
    app,
  );
});

const expected = execFileSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import { computeWeights } from ${JSON.stringify(join(root, 'packages/strategies/dist/index.js'))};
     console.log(JSON.stringify(Array.from(${weightsCall})));`,
  ],
  { encoding: 'utf8' },
).trim();

step('ESM: import every export', () => {
  writeFileSync(
    join(app, 'esm.mjs'),
    `${specifiers.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}
const all = [${specifiers.map((_, i) => `m${i}`).join(', ')}];
for (const [i, m] of all.entries()) if (Object.keys(m).length === 0) throw new Error('empty: ' + i);
const { builtinTaskNames } = m${specifiers.indexOf('@lrw/eval')};
if (!builtinTaskNames().includes('piqa')) throw new Error('@lrw/eval ships no task YAMLs');
const { computeWeights } = m${specifiers.indexOf('@lrw/strategies')};
console.log(JSON.stringify(Array.from(${weightsCall})));
`,
  );
  const out = sh(process.execPath, ['esm.mjs'], app).trim();
  if (out !== expected) throw new Error(`weights ${out}, expected ${expected}`);
});

step('CommonJS: require() every export (Node >= 20.19)', () => {
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const specs = ${JSON.stringify(specifiers)};
for (const s of specs) if (Object.keys(require(s)).length === 0) throw new Error('empty: ' + s);
const { computeWeights } = require('@lrw/strategies');
console.log(JSON.stringify(Array.from(${weightsCall})));
`,
  );
  const out = sh(process.execPath, ['cjs.cjs'], app).trim();
  if (out !== expected) throw new Error(`weights ${out}, expected ${expected}`);
});

const tsc = join(root, 'node_modules/typescript/bin/tsc');
const tsSource = `import { computeWeights, Reweighter } from '@lrw/strategies';
import { rankWeightSlice } from '@lrw/strategies/distributed';
import { perSampleLoss } from '@lrw/strategies/per-sample-loss';
import { builtinTaskNames, runTasks } from '@lrw/eval';
import { createModel, preset } from '@lrw/models';
import { tensor } from '@lrw/tensor';
import { createTokenizer } from '@lrw/data';
import { parseTrainerConfig } from '@lrw/trainer';
import * as theory from '@lrw/theory';
const used: unknown[] = [Reweighter, rankWeightSlice, perSampleLoss, runTasks, createModel, preset,
  tensor, createTokenizer, parseTrainerConfig, theory];
if (used.some((x) => x === undefined)) throw new Error('an import is undefined');
const names: string[] = builtinTaskNames();
if (!names.includes('piqa')) throw new Error('no tasks');
const w: Float64Array = ${weightsCall};
console.log(JSON.stringify(Array.from(w)));
`;
// The first also type-checks the shipped declarations (skipLibCheck: false); once is enough.
for (const [label, compilerOptions] of [
  ['module: commonjs', { module: 'commonjs', skipLibCheck: false }],
  [
    'module: nodenext, CommonJS package',
    { module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: true },
  ],
]) {
  step(`TypeScript (${label}): compiles against the shipped types and runs`, () => {
    const dir = join(app, label.startsWith('module: commonjs') ? 'ts-commonjs' : 'ts-nodenext');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.ts'), tsSource);
    writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          strict: true,
          esModuleInterop: true,
          outDir: 'out',
          typeRoots: [join(root, 'node_modules/@types')],
          types: ['node'],
          ...compilerOptions,
        },
        files: ['index.ts'],
      }),
    );
    sh(process.execPath, [tsc, '-p', '.'], dir);
    const out = sh(process.execPath, ['out/index.js'], dir).trim();
    if (out !== expected) throw new Error(`weights ${out}, expected ${expected}`);
  });
}

step('installed commands: lrw --help, lrw-theory --help', () => {
  const lrw = sh(join(app, 'node_modules/.bin/lrw'), ['--help'], app);
  if (!lrw.startsWith('Usage: lrw')) throw new Error(lrw);
  const theory = sh(join(app, 'node_modules/.bin/lrw-theory'), ['--help'], app);
  if (!theory.includes('lrw-theory')) throw new Error(theory);
});

step('installed source maps name installed sources', () => {
  for (const { pkg } of packages) {
    const base = join(app, 'node_modules', pkg.name);
    const maps = execFileSync('find', [join(base, 'dist'), '-name', '*.map'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(m, 'utf8'));
      for (const s of map.sources) {
        const src = join(m, '..', map.sourceRoot ?? '', s);
        readFileSync(src); // throws ENOENT naming the missing file
      }
    }
  }
});

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failures === 0) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work} for inspection`);
console.log(
  `${failures === 0 ? 'pack-check passed' : `pack-check: ${failures} failed`} in ${seconds} s`,
);
process.exit(failures === 0 ? 0 : 1);

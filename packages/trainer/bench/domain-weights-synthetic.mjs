// DoReMi and DoGE on the synthetic three-domain mixture of src/domain-reweighting-synthetic.test.ts
// (real text, pure noise, one 40-character line duplicated), for longer than the test: the
// reference, the DoReMi proxy and the DoGE proxy, each `--steps` steps (default 240) of the
// 2-layer GPT (d 64), seqLen 32, batch 8, constant lr 3e-3, seed 1. Prints the reference's
// validation losses, each method's mean (output) and last weights and its trajectory every 20 steps.
//
//   node bench/domain-weights-synthetic.mjs [--steps 240]
//
// Build first (npx tsc -b).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepare } from '@lrw/data';
import { trainRun } from '../dist/index.js';

const at = process.argv.indexOf('--steps');
const steps = at > 0 ? Number(process.argv[at + 1]) : 240;
const root = mkdtempSync(join(tmpdir(), 'lrw-bench-domains-'));
try {
  const src = join(root, 'src');
  mkdirSync(src);
  const text = readFileSync(
    fileURLToPath(new URL('../test/fixtures/text/books.txt', import.meta.url)),
    'utf8',
  );
  writeFileSync(join(src, 'text.txt'), text);
  let x = 12345;
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  const noise = Array.from({ length: 200 }, () =>
    Array.from({ length: 200 }, () => String.fromCharCode(33 + (next() % 94))).join(''),
  );
  writeFileSync(join(src, 'noise.txt'), noise.join('\n\n'));
  const line = text
    .split(/\n\s*\n/)
    .find((p) => p.length > 150)
    .slice(0, 40);
  writeFileSync(join(src, 'duplicated.txt'), Array(200).fill(line).join('\n\n'));
  const dataDir = join(root, 'data');
  await prepare({
    sources: [{ type: 'text', path: src, split: 'paragraph' }],
    tokenizer: 'byte',
    validation: { documents: 12 },
    workers: 0,
    outDir: dataDir,
  });
  const config = {
    model: 'nano',
    seqLen: 32,
    batchSize: 8,
    steps,
    lr: { kind: 'constant', lr: 3e-3, warmupSteps: 2 },
    evalInterval: 0,
    checkpointInterval: 0,
    seed: 1,
  };
  const run = (name, extra) =>
    trainRun(
      { ...config, ...extra },
      {
        dataDir,
        outDir: join(root, name),
        modelOverrides: { dModel: 64, nLayers: 2, nHeads: 4 },
        progress: false,
        evalBatches: 3,
      },
    );
  const fmt = (w) =>
    Object.entries(w)
      .map(([d, v]) => `${d} ${v.toFixed(3)}`)
      .join(', ');
  const started = performance.now();
  const ref = await run('reference', {});
  console.log(`steps ${steps}`);
  console.log(
    `reference validation loss: ${Object.entries(ref.results.domains)
      .map(([d, v]) => `${d} ${v.loss.toFixed(3)}`)
      .join(', ')}`,
  );
  for (const [name, reweighting] of [
    ['doremi', { kind: 'doremi', reference: join(root, 'reference') }],
    ['doge', { kind: 'doge' }],
  ]) {
    await run(name, { domainReweighting: reweighting });
    const f = JSON.parse(readFileSync(join(root, name, 'domain-weights.json'), 'utf8'));
    console.log(`${name} mean (output): ${fmt(f.weights)}`);
    console.log(`${name} last step:     ${fmt(f.final)}`);
    for (const t of f.trajectory.filter((t) => t.step % 20 === 0)) {
      console.log(`  ${name} step ${String(t.step).padStart(4)}: ${fmt(t.weights)}`);
    }
  }
  console.log(`wall ${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

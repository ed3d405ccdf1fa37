// DoReMi and DoGE on a synthetic three-domain mixture: real text, pure noise (random printable
// characters: nothing to learn beyond their uniform distribution) and duplicated text (one
// 40-character line of the text, repeated). A 2-layer GPT, 80 steps of each run, the same seed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepare } from '@lrw/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerConfigInput } from './config.js';
import type { DomainWeightsFile } from './online-domain-weights.js';
import { trainRun } from './run-training.js';
import { LEARNING_GPT, TEXT_DIR } from './training.test-helpers.js';

let root: string;
let dataDir: string;

/** Writes the three domains' text files into `dir`. */
function syntheticCorpus(dir: string): void {
  const text = readFileSync(join(TEXT_DIR, 'books.txt'), 'utf8');
  writeFileSync(join(dir, 'text.txt'), text);
  let x = 12345; // a fixed LCG: the same noise on every machine
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  const noise = Array.from({ length: 200 }, () =>
    Array.from({ length: 200 }, () => String.fromCharCode(33 + (next() % 94))).join(''),
  );
  writeFileSync(join(dir, 'noise.txt'), noise.join('\n\n'));
  const line = text
    .split(/\n\s*\n/)
    .find((p) => p.length > 150)!
    .slice(0, 40);
  writeFileSync(join(dir, 'duplicated.txt'), Array(200).fill(line).join('\n\n'));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lrw-domains-synthetic-'));
  const src = join(root, 'src');
  mkdirSync(src);
  syntheticCorpus(src);
  dataDir = join(root, 'data');
  await prepare({
    sources: [{ type: 'text', path: src, split: 'paragraph' }],
    tokenizer: 'byte',
    validation: { documents: 12 },
    workers: 0,
    outDir: dataDir,
  });
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CONFIG: TrainerConfigInput = {
  model: 'nano',
  seqLen: 32,
  batchSize: 8,
  steps: 80,
  lr: { kind: 'constant', lr: 3e-3, warmupSteps: 2 },
  evalInterval: 0,
  checkpointInterval: 0,
  seed: 1,
};
const run = (name: string, config: TrainerConfigInput) =>
  trainRun(config, {
    dataDir,
    outDir: join(root, name),
    modelOverrides: LEARNING_GPT,
    progress: false,
    evalBatches: 3,
  });
const weightsOf = (name: string) =>
  (JSON.parse(readFileSync(join(root, name, 'domain-weights.json'), 'utf8')) as DomainWeightsFile)
    .weights;

describe('DoReMi and DoGE on a mixture with a pure-noise and a duplicated domain', () => {
  it('DoReMi gives the noise domain the lowest weight (its excess loss over the reference is smallest)', async () => {
    const reference = await run('reference', CONFIG);
    // the reference learned the duplicated line and the text, and sits near the noise's entropy
    const d = reference.results.domains;
    expect(d.duplicated!.loss).toBeLessThan(d.text!.loss);
    expect(d.noise!.loss).toBeGreaterThan(Math.log(94) - 0.05);
    await run('doremi', {
      ...CONFIG,
      domainReweighting: { kind: 'doremi', reference: join(root, 'reference') },
    });
    const w = weightsOf('doremi');
    expect(w.noise!).toBeLessThan(0.25);
    expect(w.noise!).toBeLessThan(Math.min(w.text!, w.duplicated!));
  }, 60_000);

  it('DoGE gives the noise domain the lowest weight too (its gradient aligns with no other)', async () => {
    // The duplicated domain is NOT down-weighted in a run this short: while it is being learned
    // its gradient is large and aligned with the text's, so DoGE raises it; only once it is
    // memorised does its gradient vanish and its weight fall (bench/RESULTS.md).
    await run('doge', { ...CONFIG, domainReweighting: { kind: 'doge' } });
    const w = weightsOf('doge');
    expect(w.noise!).toBeLessThan(0.3);
    expect(w.noise!).toBeLessThan(Math.min(w.text!, w.duplicated!));
  }, 60_000);
});

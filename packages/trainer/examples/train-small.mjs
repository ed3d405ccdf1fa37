// Trains a small model on the two-domain test text (Moby-Dick chapters, State of the Union
// addresses; byte tokenizer) with uniform weights and with LinUpper, same data and seed, and
// writes the HTML report. From packages/trainer after `npx tsc -b`: node examples/train-small.mjs
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareRuns, writeReport } from '@lrw/trainer';

const root = mkdtempSync(join(tmpdir(), 'lrw-train-small-'));
const text = fileURLToPath(new URL('../test/fixtures/text/', import.meta.url));

const results = await compareRuns(
  {
    model: 'nano',
    seqLen: 32,
    batchSize: 8,
    steps: 150,
    lr: { kind: 'cosine', peakLr: 1e-2, endLr: 1e-3, warmupSteps: 10 },
    evalInterval: 50,
    checkpointInterval: 50,
    seed: 1,
  },
  {
    uniform: { method: 'uniform' },
    // the GPT-2 reference's warm-up, scaled down: plain mean loss for 50 steps, then r = 0.4
    linupper: {
      method: 'linupper',
      temperature: {
        kind: 'plain-mean-warmup',
        warmupSteps: 50,
        // biome-ignore lint/suspicious/noThenProperty: the config's field name
        then: { kind: 'constant', r: 0.4 },
      },
    },
  },
  {
    root,
    dataDir: join(root, 'data'),
    prepare: {
      sources: [{ type: 'text', path: text, split: 'paragraph' }],
      tokenizer: 'byte',
      validation: { documents: 12 },
      workers: 0,
    },
    // a Llama of the nano preset's family, 1 layer, d 32 (see the tests for why untied)
    modelOverrides: { arch: 'llama', dModel: 32, nLayers: 1, nHeads: 2, nKvHeads: 2, dFF: 128 },
  },
);
for (const r of results) {
  const d = Object.entries(r.results.domains)
    .map(([name, v]) => `${name} ${v.loss.toFixed(3)} (ppl ${v.perplexity.toFixed(2)})`)
    .join(', ');
  console.log(`${r.results.label}: ${d}`);
}
await writeReport(
  results.map((r) => r.outDir),
  join(root, 'report.html'),
  { title: 'uniform vs LinUpper, small run' },
);
console.log(`report: ${join(root, 'report.html')}`);

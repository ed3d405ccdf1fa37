// Quick start of @lrw/data: the embedded default corpus -> shards -> a resumable, mixed stream.
// Run: npm run example (in packages/data). Takes a few seconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleProgress, defaultCorpus, openDataset, prepare } from '../dist/index.js';

const outDir = mkdtempSync(join(tmpdir(), 'lrw-data-example-'));
try {
  // 1. Five real domains from npm packages, 256 KiB each.
  const corpus = defaultCorpus({ maxBytesPerDomain: 256 * 1024 });
  console.log(corpus.packages.map((p) => `${p.domain}: ${p.name}@${p.version}`).join('\n'));

  // 2. Tokenize with GPT-2 BPE on two worker threads into checksummed shards.
  const { index } = await prepare({
    sources: [corpus.source],
    outDir,
    tokenizer: 'gpt2',
    validation: { fraction: 0.05 },
    onProgress: consoleProgress(),
  });
  console.log(
    'train tokens per domain:',
    Object.fromEntries(Object.entries(index.stats.train).map(([d, s]) => [d, s.tokens])),
  );

  // 3. Stream batches with a static mixture; change it while running.
  const dataset = await openDataset(outDir);
  const tokenizer = await dataset.tokenizer();
  const stream = dataset.stream({
    batchSize: 4,
    seqLen: 64,
    seed: 1,
    mixture: { books: 0.4, speeches: 0.3, dictionary: 0.1, code: 0.1, 'api-docs': 0.1 },
  });
  const first = await stream.next();
  console.log(
    'domains of batch 0:',
    Array.from(first.domainIds, (d) => dataset.domains[d]),
  );
  console.log('row 0:', JSON.stringify(tokenizer.decode(first.tokens.subarray(0, 64))));
  stream.setWeights({ code: 1 }); // e.g. from an online domain-reweighting step
  const state = stream.state(); // JSON: put it in the checkpoint
  const next = await stream.next();
  console.log(
    'after setWeights, domains:',
    Array.from(next.domainIds, (d) => dataset.domains[d]),
  );
  await stream.close();

  // 4. Resume elsewhere: the same batch again.
  const resumed = dataset.stream({ batchSize: 4, seqLen: 64, seed: 1 });
  resumed.load(state);
  const again = await resumed.next();
  console.log(
    'resumed batch identical:',
    again.tokens.every((t, i) => t === next.tokens[i]),
  );
  await resumed.close();
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

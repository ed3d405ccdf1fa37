// Runs the paper's four evaluation tasks on the committed 30-row excerpts with the "length
// scorer" (LL = -characters of the continuation), then a per-domain perplexity report.
// Build first (`npx tsc -b`), then: node examples/quickstart.mjs [path/to/shared/data/eval]
import { fileURLToPath } from 'node:url';
import { batchFromSequences, evaluatePerplexity, runTasks } from '@lrw/eval';

const dir = process.argv[2] ?? fileURLToPath(new URL('../src/fixtures/', import.meta.url));
const full = process.argv[2] !== undefined;
const dataFiles = {
  piqa: { validation: `${dir}/piqa/valid.jsonl` }, // labels read from valid-labels.lst beside it
  sciq: { test: `${dir}/sciq/test.json` },
  logiqa: { test: `${dir}/logiqa/Test.txt` },
  logiqa2: { test: `${dir}/logiqa2/test.txt` },
};

/** Any model fits behind this interface: the model tokenizes. */
const lengthScorer = {
  async loglikelihood(requests) {
    return requests.map((r) => ({ logprob: -[...r.continuation].length, greedy: false }));
  },
  async loglikelihoodRolling(texts) {
    return texts.map((t) => -[...t].length);
  },
};

const results = await runTasks(lengthScorer, {
  tasks: ['piqa', 'sciq', 'logiqa', 'logiqa2'],
  dataFiles,
  numFewshot: 0,
  seed: 1234,
});
for (const [task, r] of Object.entries(results.results)) {
  const acc = r['acc,none'].toFixed(6);
  const accNorm = r['acc_norm,none'].toFixed(6);
  console.log(
    `${task.padEnd(8)} acc ${acc} ± ${Number(r['acc_stderr,none']).toFixed(4)}  acc_norm ${accNorm}`,
  );
}
console.log(`requests ${results.requests.requests}, model calls ${results.requests.batches}`);
if (full)
  console.log(
    '(compare with ../shared/data/eval/README.md: piqa acc 0.534276 acc_norm 0.484766 ...)',
  );

// Perplexity: a uniform model over 50257 tokens has perplexity 50257 in every domain.
const uniform = {
  targetLogProbs: async (b) => new Float64Array(b.batchSize * b.seqLen).fill(-Math.log(50257)),
};
const batch = batchFromSequences([Int32Array.of(1, 2, 3, 4), Int32Array.of(5, 6, 7)], [0, 1]);
const ppl = await evaluatePerplexity(uniform, [batch], {
  domains: ['web', 'code'],
  tokenBytes: () => 4,
});
console.log(
  'perplexity',
  ppl.overall.perplexity.toFixed(1),
  'bits/byte',
  ppl.overall.bitsPerByte.toFixed(3),
);
console.log(
  'per domain',
  Object.fromEntries(Object.entries(ppl.domains).map(([d, r]) => [d, r.tokens])),
);

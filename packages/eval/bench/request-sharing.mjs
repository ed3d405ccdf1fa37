// How much model work the runner saves: requests asked vs forward rows and tokens actually
// scored, against the naive peer (one forward pass per request), on the committed excerpts
// (boolq-style one-token answers are where shared rows pay off). Build first: npx tsc -b.
import { fileURLToPath } from 'node:url';
import { createTokenizer } from '@lrw/data';
import { loadTask, scoreRequests, TokenLanguageModel } from '@lrw/eval';

const fx = fileURLToPath(new URL('../src/fixtures/', import.meta.url));
const tokenizer = await createTokenizer('gpt2');
let tokens = 0;
const scorer = {
  maxLength: 1024,
  async scoreRows(rows) {
    for (const r of rows) tokens += r.tokens.length;
    return rows.map((r) => ({
      logprobs: Array.from(r.targets, () => -1),
      greedy: Array.from(r.targets, () => false),
    }));
  },
};
const cases = {
  piqa: loadTask('piqa', { dataFiles: { validation: `${fx}piqa/valid.jsonl` } }),
  sciq: loadTask('sciq', { dataFiles: { test: `${fx}sciq/test.json` } }),
  'boolq-style (sciq docs, choices "no"/"yes")': null,
};
for (const [name, task] of Object.entries(cases)) {
  let requests;
  if (task) requests = task.buildRequests({ numFewshot: 5, seed: 1234 }).flatMap((d) => d.requests);
  else {
    const docs = cases.sciq.buildRequests().map((d) => d.requests[0].context);
    requests = docs.flatMap((context) =>
      [' no', ' yes'].map((continuation) => ({ context, continuation })),
    );
  }
  const naiveTokens = requests.reduce((s, r) => {
    const { context, continuation } = new TokenLanguageModel(tokenizer, scorer).encodePair(
      r.context,
      r.continuation,
    );
    return s + Math.min(1024, context.length + continuation.length - 1);
  }, 0);
  tokens = 0;
  const lm = new TokenLanguageModel(tokenizer, scorer);
  const { stats } = await scoreRequests(lm, requests, { batchSize: 64 });
  console.log(
    `${name}: ${stats.requests} requests, ${stats.scored} distinct, ${lm.rowsScored} forward rows; ` +
      `tokens ${tokens} vs naive ${naiveTokens} (ratio ${(tokens / naiveTokens).toFixed(3)})`,
  );
}

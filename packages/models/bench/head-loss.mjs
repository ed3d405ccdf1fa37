// Head + per-sample loss: the chunked path (linearCrossEntropy, recompute in backward) against
// the composed logits path, measured in the same run. Reports the bytes each keeps alive
// between forward and backward and the forward+backward time ratio.
import { GPT2 } from '@lrw/models';
import { memory, tensor } from '@lrw/tensor';

const V = Number(process.env.V ?? 16384);
const B = 4;
const T = 128;
const cfg = { arch: 'gpt2', vocabSize: V, contextLength: T, dModel: 64, nLayers: 1, nHeads: 4 };
const model = new GPT2(cfg, { seed: 0 });
const ids = tensor(
  Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % V),
  {
    shape: [B, T],
    dtype: 'int32',
  },
);
const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 104729) % V);

function run(head) {
  const base = memory().bytes;
  const t0 = performance.now();
  const r = model.perSampleLoss(ids, targets, undefined, { head });
  const held = memory().bytes - base;
  r.losses.mean().backward();
  const ms = performance.now() - t0;
  r.losses.dispose();
  r.tokenLosses.dispose();
  model.zeroGrad();
  return { held, ms };
}

run('logits'); // warm-up
run('chunked');
const reps = 3;
const res = { logits: { held: 0, ms: 0 }, chunked: { held: 0, ms: 0 } };
for (let i = 0; i < reps; i++) {
  for (const head of ['logits', 'chunked']) {
    const r = run(head);
    res[head].held = r.held;
    res[head].ms += r.ms / reps;
  }
}
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(`B=${B} T=${T} V=${V} C=64; one (B*T, V) float32 buffer = ${mib(B * T * V * 4)}`);
for (const head of ['logits', 'chunked']) {
  console.log(
    `${head.padEnd(8)} held after forward ${mib(res[head].held)}, fwd+bwd ${res[head].ms.toFixed(0)} ms`,
  );
}
console.log(
  `chunked / logits: memory ${(res.chunked.held / res.logits.held).toFixed(3)}, time ${(res.chunked.ms / res.logits.ms).toFixed(2)}`,
);
ids.dispose();
model.dispose();

// Head + per-sample loss: the chunked path against the composed logits path, measured in the
// same run, on the fast `cpu` backend (where the chunked head is @lrw/tensor's fused
// linearCrossEntropy routine) and on `cpu-reference` (where it is @lrw/models' own recompute op).
// Reports the bytes each keeps alive in tensors between forward and backward and the
// forward+backward time ratio.
import { GPT2, hasFusedHead } from '@lrw/models';
import { getBackend, memory, tensor } from '@lrw/tensor';

const V = Number(process.env.V ?? 16384);
const B = 4;
const T = 128;
const cfg = { arch: 'gpt2', vocabSize: V, contextLength: T, dModel: 64, nLayers: 1, nHeads: 4 };
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(`B=${B} T=${T} V=${V} C=64; one (B*T, V) float32 buffer = ${mib(B * T * V * 4)}`);

for (const backend of ['cpu', 'cpu-reference']) {
  const model = new GPT2(cfg, { seed: 0, backend });
  const ids = tensor(
    Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % V),
    { shape: [B, T], dtype: 'int32', backend },
  );
  const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 104729) % V);

  const run = (head) => {
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
  };

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
  const how = hasFusedHead(getBackend(backend)) ? 'fused routine' : 'models recompute op';
  console.log(`backend ${backend} (chunked head: ${how})`);
  for (const head of ['logits', 'chunked']) {
    console.log(
      `  ${head.padEnd(8)} held after forward ${mib(res[head].held)}, fwd+bwd ${res[head].ms.toFixed(0)} ms`,
    );
  }
  console.log(
    `  chunked / logits: memory ${(res.chunked.held / res.logits.held).toFixed(3)}, time ${(res.chunked.ms / res.logits.ms).toFixed(2)}`,
  );
  ids.dispose();
  model.dispose();
}

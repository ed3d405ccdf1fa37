// Save checkpoints (keep the last 2), resume from the latest, and see what a damaged file says.
import { mkdtemp, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '@lrw/trainer';

const dir = join(await mkdtemp(join(tmpdir(), 'lrw-example-')), 'checkpoints');
const store = new CheckpointStore(dir, { keepLast: 2 });

for (const step of [100, 200, 300]) {
  await store.save({
    step,
    model: { 'wte.weight': { shape: [4, 2], data: new Float32Array(8).fill(step / 100) } },
    optimizer: {
      tensors: { 'm/wte.weight': { shape: [4, 2], data: new Float32Array(8) } },
      state: { step },
    },
    parts: { rng: { state: 12345678901234567890n }, data: { shard: 0, offset: step * 64 } },
    config: { method: 'linupper', seed: 1 },
  });
}
console.log((await store.list()).map((c) => c.step)); // [ 200, 300 ]
const resumed = await store.loadLatest();
console.log(resumed.step, resumed.model['wte.weight'].data[0], resumed.parts.rng.state); // 300 3 12345678901234567890n

await truncate((await store.latest()).path, 100); // simulate a damaged file
try {
  await store.loadLatest();
} catch (error) {
  console.log(error.message);
  // Checkpoint .../step-000000300.lrwckpt: is 100 bytes but its header says 448: it is truncated.
  // HINT: resume from an earlier checkpoint instead: .../step-000000200.lrwckpt.
}

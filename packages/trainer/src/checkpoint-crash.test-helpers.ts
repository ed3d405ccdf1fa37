// Child process for checkpoint.test.ts: saves checkpoints into the directory given as argv[2]
// until the parent kills it with SIGKILL. Mode "hang" stops for good just before the rename of
// step 2 and says READY; mode "loop" saves large checkpoints back to back, saying READY after
// the first one.
import { CheckpointStore } from './checkpoint-store.js';

const [directory, mode] = process.argv.slice(2) as [string, string];
const store = new CheckpointStore(directory, { keepLast: 2 });

function contents(step: number, size: number) {
  const data = new Float32Array(size).fill(step);
  return {
    step,
    model: { w: { shape: [size], data } },
    optimizer: { tensors: {}, state: null },
    parts: { step },
    config: {},
  };
}

if (mode === 'hang') {
  await store.save(contents(1, 1000));
  await store.save(contents(2, 1000), {
    beforeRename: () =>
      new Promise<void>(() => {
        // a pending promise alone would let Node exit; the timer keeps the process alive
        // until the parent's SIGKILL
        setInterval(() => {}, 1000);
        process.stdout.write('READY\n');
      }),
  });
} else {
  for (let step = 1; ; step++) {
    await store.save(contents(step, 2_000_000));
    if (step === 1) process.stdout.write('READY\n');
  }
}

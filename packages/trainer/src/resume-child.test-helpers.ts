// Child process for resume.test.ts: trains the small config into argv[3] on the dataset in
// argv[2], printing "CKPT <step>" after each checkpoint, until the parent kills it (SIGKILL).
import { trainRun } from './run-training.js';
import { SMALL_CONFIG, SMALL_MODEL } from './training.test-helpers.js';

const [dataDir, outDir] = process.argv.slice(2) as [string, string];
await trainRun(SMALL_CONFIG, {
  dataDir,
  outDir,
  modelOverrides: SMALL_MODEL,
  progress: false,
  evalBatches: 2,
  hooks: {
    onCheckpoint: (step) => {
      process.stdout.write(`CKPT ${step}\n`);
    },
    // slow enough that the parent's kill lands in the middle of the run
    beforeStep: (step) => {
      if (step > 6) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    },
  },
});
process.stdout.write('DONE\n');

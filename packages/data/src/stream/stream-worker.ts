import { parentPort, workerData } from 'node:worker_threads';
import type { DatasetIndex } from '../shard/dataset-index.js';
import { BatchBuilder, type StreamOptions, type StreamState } from './batch-builder.js';

// Prefetch worker: builds batches ahead of the trainer. The main thread grants credits (one
// per batch it may hold); a reset carries a generation number and a state, after which
// batches of older generations are ignored by the main thread.
interface Init {
  index: DatasetIndex;
  dir: string;
  options: StreamOptions;
  state: StreamState;
  credits: number;
  generation: number;
}

const port = parentPort;
if (!port) throw new Error('stream-worker must run in a worker thread');
const init = workerData as Init;
const builder = new BatchBuilder(init.index, init.dir, init.options);
builder.load(init.state);
let generation = init.generation;
let credits = init.credits;
let scheduled = false;
let ended = false;

function produce(): void {
  scheduled = false;
  if (credits <= 0 || ended) return;
  try {
    const batch = builder.next();
    const state = builder.state();
    credits--;
    if (batch === null) {
      ended = true;
      port?.postMessage({ generation, batch: null, state });
      return;
    }
    const transfer = [
      batch.tokens,
      batch.targets,
      batch.mask,
      batch.domainIds,
      batch.sampleIds,
    ].map((a) => a.buffer as ArrayBuffer);
    port?.postMessage({ generation, batch, state }, transfer);
  } catch (error) {
    const e = error as Error & { code?: string; hint?: string };
    ended = true;
    port?.postMessage({ generation, error: { message: e.message, code: e.code, name: e.name } });
    return;
  }
  schedule();
}

function schedule(): void {
  if (!scheduled && credits > 0 && !ended) {
    scheduled = true;
    setImmediate(produce);
  }
}

port.on(
  'message',
  (
    m:
      | { type: 'credit' }
      | { type: 'reset'; generation: number; state: StreamState; credits: number },
  ) => {
    if (m.type === 'credit') credits++;
    else {
      generation = m.generation;
      builder.load(m.state);
      credits = m.credits;
      ended = false;
    }
    schedule();
  },
);
schedule();

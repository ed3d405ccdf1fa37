import { Worker } from 'node:worker_threads';

/**
 * Slots of the shared state: calls started + finished, calls in flight (a blocking call, or
 * allReduceSumAsync calls queued on the addon's communication thread), the latest operation.
 */
const COUNTER = 0;
const BUSY = 1;
const OP = 2;

export const OPERATIONS = [
  'allGather',
  'allReduceSum',
  'broadcast',
  'barrier',
  'finalize',
] as const;

// The watchdog thread: sleeps until a call starts, then waits for calls to start or finish; when
// calls are in flight and none has started or finished for longer than the limit, it reports
// and kills the process (SIGKILL), which makes the launcher end every rank of the job. It runs
// beside the blocked main thread. (The communication thread's updates come without a notify:
// the timed wait then wakes at the limit, sees the counter moved and waits again.)
const SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const s = new Int32Array(workerData.shared);
const ops = workerData.operations;
for (;;) {
  if (Atomics.load(s, ${BUSY}) === 0) {
    Atomics.wait(s, ${BUSY}, 0);
    continue;
  }
  const at = Atomics.load(s, ${COUNTER});
  if (Atomics.wait(s, ${COUNTER}, at, workerData.limitMs) !== 'timed-out') continue;
  if (Atomics.load(s, ${COUNTER}) !== at || Atomics.load(s, ${BUSY}) === 0) continue;
  writeSync(2, workerData.prefix + ops[Atomics.load(s, ${OP})] + workerData.suffix);
  process.kill(process.pid, 'SIGKILL');
}
`;

/**
 * Ends this process when one collective call runs longer than `seconds`: a peer that hangs
 * (not one that dies: the launcher handles that) would otherwise keep every rank waiting.
 */
export class CollectiveWatchdog {
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private readonly worker: Worker;

  /** `message`: what to print instead of the stuck-peer message (prefix, operation, suffix). */
  constructor(
    seconds: number,
    rank: number,
    size: number,
    message?: { prefix: string; suffix: string },
  ) {
    this.worker = new Worker(SOURCE, {
      eval: true,
      workerData: {
        shared: this.state.buffer,
        operations: OPERATIONS,
        limitMs: seconds * 1000,
        prefix: message?.prefix ?? `lrw: rank ${rank} of ${size} waited more than ${seconds} s in `,
        suffix:
          message?.suffix ??
          ` for the other ranks: one of them is stuck; ending the job (the launcher reports this rank as killed, signal 9). Raise the limit for steps or evaluations that take longer.\n`,
      },
    });
    this.worker.unref();
  }

  /** Runs `f` (one collective call) under the limit. */
  guard<T>(operation: (typeof OPERATIONS)[number], f: () => T): T {
    this.begin(operation);
    try {
      return f();
    } finally {
      this.end();
    }
  }

  /**
   * Counts one call in: from now until its end (`end()`, or the addon's communication thread
   * when it finishes a queued call: see `cells`), the watchdog ends the process when no call
   * starts or ends for longer than the limit. Several calls may be in flight.
   */
  begin(operation: (typeof OPERATIONS)[number]): void {
    const s = this.state;
    Atomics.store(s, OP, OPERATIONS.indexOf(operation));
    Atomics.add(s, COUNTER, 1);
    Atomics.add(s, BUSY, 1);
    Atomics.notify(s, BUSY);
  }

  /** Counts one call out. */
  end(): void {
    const s = this.state;
    Atomics.sub(s, BUSY, 1);
    Atomics.add(s, COUNTER, 1);
    Atomics.notify(s, COUNTER);
  }

  /**
   * The shared cells [counter, busy, operation]: the addon's communication thread ends a queued
   * call by decrementing busy and incrementing counter atomically, so the watchdog sees it finish
   * even while the main thread is busy in JavaScript.
   */
  get cells(): Int32Array {
    return this.state;
  }

  /** Stops the watchdog thread. */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { platform as browser } from './browser.js';
import { platform as node } from './node.js';

describe('platform services', () => {
  it('Node: every core, worker threads, V8 flags', async () => {
    expect(node.name).toBe('node');
    expect(node.defaultThreads()).toBe(availableParallelism());
    expect(node.workerThreads).toBe(true);
    expect(node.setV8Flags('--experimental-wasm-relaxed-simd')).toBe(true);
    const source =
      "import { parentPort } from 'node:worker_threads'; parentPort.postMessage(6 * 7);";
    const worker = node.createWorker(
      new URL(`data:text/javascript,${encodeURIComponent(source)}`),
      {},
    );
    const answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(answer).toBe(42);
    await worker.terminate();
  });

  it('Node: LRW_TENSOR_THREADS sets the default thread count (the wasm pool follows it)', async () => {
    const saved = process.env.LRW_TENSOR_THREADS;
    try {
      process.env.LRW_TENSOR_THREADS = '1';
      expect(node.defaultThreads()).toBe(1);
      const { createWasmKernels } = await import('../cpu-wasm/index.js');
      const mm = await createWasmKernels();
      expect(mm.threads).toBe(1);
      await mm.close();
      process.env.LRW_TENSOR_THREADS = '3';
      expect(node.defaultThreads()).toBe(3);
      for (const bad of ['0', '-2', '1.5', 'two']) {
        process.env.LRW_TENSOR_THREADS = bad;
        expect(() => node.defaultThreads()).toThrow(
          new RegExp(
            `LRW_TENSOR_THREADS=${bad}: expected a whole number of threads from 1 to 1024`,
          ),
        );
      }
    } finally {
      if (saved === undefined) delete process.env.LRW_TENSOR_THREADS;
      else process.env.LRW_TENSOR_THREADS = saved;
    }
  });

  it('browser: one thread, no workers (clear error), no V8 flags', () => {
    expect(browser.name).toBe('browser');
    expect(browser.defaultThreads()).toBe(1);
    expect(browser.workerThreads).toBe(false);
    expect(() => browser.createWorker(new URL('data:text/javascript,'), {})).toThrow(
      /needs node:worker_threads.*threads: 1/,
    );
    expect(browser.setV8Flags('--anything')).toBe(false);
  });
});

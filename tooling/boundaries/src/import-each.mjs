#!/usr/bin/env node
// Imports each module given on the command line on its own: in a fresh worker thread (a fresh
// module graph, so no earlier import can have initialized what it needs), one after another.
// Prints one JSON line: [{ module, error? }] (error: the message and the top of the stack).
// `--concurrency N` runs N workers at a time (default 1).
//
//   node import-each.mjs --concurrency 2 packages/tensor/dist/op-table.js packages/tensor/dist/ops/matmul.js
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

// A CommonJS eval worker: dynamic import() loads the ES module, then reports and waits to be
// terminated (a module may start timers or pools that would keep the thread alive).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData).then(
  () => parentPort.postMessage({ ok: true }),
  (e) => parentPort.postMessage({ ok: false, error: String((e && e.stack) || e).split('\\n').slice(0, 6).join('\\n') }),
);
`;

/** Imports `file` in a new worker; resolves to undefined or the error text. */
export function importAlone(file, timeoutMs = 30_000) {
  return new Promise((done) => {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: pathToFileURL(resolve(file)).href,
      stdout: true,
      stderr: true,
    });
    let settled = false;
    const finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate().then(() => done(error));
    };
    const timer = setTimeout(
      () => finish(`import did not settle within ${timeoutMs} ms`),
      timeoutMs,
    );
    worker.on('message', (m) => finish(m.ok ? undefined : m.error));
    worker.on('error', (e) => finish(String(e?.stack ?? e)));
    worker.on('exit', (code) => finish(code === 0 ? undefined : `worker exited with code ${code}`));
  });
}

/** Imports each of `files` alone, `concurrency` workers at a time; results in input order. */
export async function importEach(files, concurrency = 1) {
  const results = new Array(files.length);
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const i = next++;
      const error = await importAlone(files[i]);
      results[i] = error === undefined ? { module: files[i] } : { module: files[i], error };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  let concurrency = 1;
  const at = args.indexOf('--concurrency');
  if (at >= 0) {
    concurrency = Number(args[at + 1]);
    args.splice(at, 2);
  }
  process.stdout.write(`${JSON.stringify(await importEach(args, concurrency))}\n`);
}

#!/usr/bin/env node
// gpt2-nano training tokens/s on 'cpu', 'webgpu' and 'gpujs' in one headless Chromium page (the
// browser check's trainNano: batch 4 x 32 tokens, AdamW; each backend trains twice and the
// second run is timed, so kernels are compiled and pools warm; the time includes building the
// model and the final loss evaluation). Without a GPU, WebGPU and WebGL2 run on SwiftShader.
// Build first (`npm run build`).
//
//   node packages/models/bench/browser-nano.mjs [--steps 2]
import { findChromium, runInChromium } from '../browser-check/run-headless.mjs';

const i = process.argv.indexOf('--steps');
const steps = i > 0 ? Number(process.argv[i + 1]) : 2;
if (!findChromium()) {
  console.log('browser nano bench skipped: no Chromium (apt-get install chromium)');
  process.exit(0);
}
const started = new Date().toISOString();
const r = await runInChromium({
  steps,
  backends: ['cpu', 'webgpu', 'gpujs'],
  timeoutMs: 900_000,
  query: '&repeat=2&gradients=0',
});
console.log(`browser nano bench ${started}: ${r.userAgent}`);
console.log('| backend | kernels | tokens/s | vs cpu |');
console.log('|---|---|---|---|');
const tokens = steps * 4 * 32;
const cpu = r.runs.cpu?.ms ? tokens / (r.runs.cpu.ms / 1000) : undefined;
for (const run of Object.values(r.runs)) {
  if (!run.ms) {
    console.log(`| ${run.backend} | ${run.skipped ?? run.error} | - | - |`);
    continue;
  }
  const tps = tokens / (run.ms / 1000);
  console.log(
    `| ${run.backend} | ${run.kernels} | ${tps.toFixed(1)} | ${cpu ? (tps / cpu).toFixed(3) : '-'} |`,
  );
}

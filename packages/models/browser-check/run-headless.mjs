// Opens the browser-check page in headless Chromium (playwright-core) and returns what the page
// published; run directly, it prints the losses per backend:
//
//   node packages/models/browser-check/run-headless.mjs [--steps 3] [--backends cpu,webgpu]
//                                                       [--chromium /usr/bin/chromium]
//
// (after `npm run build`). The exit code is 1 when a backend failed (a skipped WebGPU is not a
// failure). Used by test/browser-check.test.ts.
import { existsSync } from 'node:fs';
import { normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

/**
 * Headless Chromium with WebGPU: --enable-unsafe-webgpu makes requestAdapter() return an adapter
 * on Linux, where without a GPU Chromium falls back to its bundled SwiftShader (a Vulkan on the
 * CPU); without the flag the adapter is null. The rest are quiet-start flags.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium, if installed (apt-get install chromium). */
export function findChromium() {
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

/**
 * Serves the page, opens it in headless Chromium and waits for its result. Rejects, naming the
 * page errors and failed requests, when the page does not finish within `timeoutMs`.
 */
export async function runInChromium(options = {}) {
  const {
    executablePath = findChromium(),
    steps = 3,
    backends = ['cpu', 'cpu-reference', 'webgpu', 'gpujs'],
    timeoutMs = 150_000,
    query = '',
  } = options;
  if (executablePath === undefined) {
    throw new Error('no Chromium: install it (apt-get install chromium) or pass --chromium PATH');
  }
  const server = await serve();
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
  try {
    const tab = await browser.newPage();
    const problems = [];
    tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    tab.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    tab.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await tab.goto(`${server.page}?steps=${steps}&backends=${backends.join(',')}${query}`);
    try {
      await tab.waitForFunction(() => 'lrwBrowserCheck' in globalThis, null, {
        timeout: timeoutMs,
      });
    } catch (error) {
      throw new Error(`the page did not finish: ${problems.join('; ') || String(error)}`);
    }
    const result = await tab.evaluate(() => globalThis.lrwBrowserCheck);
    return { ...result, problems };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** One line per run: backend, kernels, time and losses (or why it did not run). */
export function formatRuns(result, prefix = 'chromium') {
  return Object.values(result.runs)
    .map((r) =>
      r.losses
        ? `${prefix} ${r.backend} (${r.kernels}, ${r.ms} ms): ${r.losses.map((l) => l.toFixed(6)).join(' ')}`
        : `${prefix} ${r.backend}: ${r.skipped ? `skipped: ${r.skipped}` : `error: ${r.error}`}`,
    )
    .join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const arg = (name) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const result = await runInChromium({
    executablePath: arg('chromium') ?? findChromium(),
    ...(arg('steps') && { steps: Number(arg('steps')) }),
    ...(arg('backends') && { backends: arg('backends').split(',') }),
  });
  console.log(result.userAgent);
  console.log(formatRuns(result));
  for (const p of result.problems) console.log(p);
  const failed = Object.values(result.runs).some((r) => r.error) || result.problems.length > 0;
  process.exit(failed ? 1 : 0);
}

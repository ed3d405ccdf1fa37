/**
 * The shared conformance suite on the gpujs backend in headless Chromium (WebGL2 on SwiftShader
 * when the machine has no GPU): the page loads @lrw/tensor from dist/ and gpu.js's browser
 * bundle, runs every check ('gpujs' with its fused routines, 'gpujs-composed' without), and each
 * check becomes one test here. Tolerances are the op table's, as on every backend. Skips with
 * the reason when Chromium, gpu.js or the build is missing.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper shared with the browser benchmark
import { browserUnavailable, runInChromium } from './browser-page.mjs';

interface Report {
  passed: string[];
  failed: { name: string; message: string }[];
  skipped: { name: string; reason: string }[];
}

const why: string | undefined = browserUnavailable();
const SCRIPT = `
import { registerBackend, loadBackend, opTable } from '@lrw/tensor';
import { runConformanceSuite } from '@lrw/tensor/testing';
import * as T from '@lrw/tensor';
import * as gpujs from '@lrw/tensor/gpujs';
import { gpuJsApiChecks } from '/test/gpujs/api-checks.mjs';
const { createGpuJsBackend } = gpujs;
try {
  const b = await loadBackend('gpujs');
  const composed = await createGpuJsBackend({ name: 'gpujs-composed', fusedRoutines: false });
  registerBackend('gpujs-composed', () => composed);
  const reports = {};
  for (const name of ['gpujs', 'gpujs-composed']) reports[name] = await runConformanceSuite(name);
  const api = await gpuJsApiChecks(T, gpujs, 'gpujs');
  globalThis.result = { renderer: b.renderer, webgl: b.webglVersion, ops: opTable.size, reports, api };
} catch (e) {
  globalThis.result = { error: String(e?.stack ?? e) };
}`;

const result: {
  error?: string;
  renderer?: string;
  webgl?: number;
  reports?: Record<string, Report>;
  api?: { name: string; error?: string }[];
} = why ? {} : await runInChromium(SCRIPT, { timeoutMs: 400_000 });
if (result.renderer) console.log(`[gpujs conformance] ${result.renderer}, WebGL${result.webgl}`);

describe('gpujs in headless Chromium', () => {
  if (why) {
    it.skip(`skipped: ${why}`, () => {});
    return;
  }
  it('the page ran the suite on WebGL2', () => {
    expect(result.error).toBeUndefined();
    expect(result.webgl).toBe(2);
  });
  for (const c of result.api ?? []) {
    it(`gpujs API: ${c.name}`, () => {
      if (c.error) throw new Error(c.error);
    });
  }
  for (const [backend, report] of Object.entries(result.reports ?? {})) {
    it(`${backend}: ran checks`, () => expect(report.passed.length).toBeGreaterThan(200));
    for (const name of report.passed) it(name, () => {});
    for (const f of report.failed) {
      it(f.name, () => {
        throw new Error(f.message);
      });
    }
    for (const s of report.skipped) it.skip(`${s.name} (${s.reason})`, () => {});
  }
});

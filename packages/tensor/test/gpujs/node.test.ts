/**
 * The gpujs backend in Node, on headless-gl (npm `gl`, WebGL1 through ANGLE, on Mesa's llvmpipe
 * under an X server such as Xvfb): the shared conformance suite with the op table's tolerances
 * and the API checks. Where headless-gl is not built or no display is set (CI: `gl` compiles
 * ANGLE from source and needs X development packages), the tests skip with the backend's own
 * explanation, and the same checks run in Chromium (conformance.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as gpujs from '../../src/gpujs/index.js';
import * as T from '../../src/index.js';
import { conformanceChecks } from '../../src/testing/index.js';
// @ts-expect-error: plain .mjs checks shared with the browser page
import { gpuJsApiChecks } from './api-checks.mjs';

let reason: string | undefined;
let backend: gpujs.GpuJsBackend | undefined;
try {
  backend = await gpujs.createGpuJsBackend({ name: 'gpujs-node' });
  T.registerBackend('gpujs-node', () => backend as gpujs.GpuJsBackend);
  await T.loadBackend('gpujs-node');
} catch (e) {
  reason = e instanceof Error ? e.message : String(e);
  console.warn(`[gpujs node tests skipped] ${reason}`);
}

describe('gpujs in Node (headless-gl)', () => {
  if (!backend) {
    it.skip(`unavailable: ${reason}`, () => {});
    it('says why it cannot start, naming headless-gl and what to install', () => {
      expect(reason).toMatch(/gpu\.js|headless-gl/);
    });
    return;
  }
  it('runs on WebGL1 float textures (headless-gl)', () => {
    expect(backend?.webglVersion).toBe(1);
  });
  const api: Promise<{ name: string; error?: string }[]> = gpuJsApiChecks(T, gpujs, 'gpujs-node');
  for (const title of [
    'memory() counts each live texture and its exact bytes; freed textures are pooled and reused',
    'a chain of ops stays on the GPU: no new textures once the pool is warm, no leaks',
    'tensors past MAX_TEXTURE_SIZE are refused with an error naming the limit and the remedy',
    'int32 tensors round-trip exactly (stored as float values), also when copied in as raw bytes',
    'partial writes and sub-range reads',
    'adamwStep takes the fused routine and matches the cpu backend',
    'linearCrossEntropy over more logits than one chunk (2^22) matches cpu, loss and gradients',
  ]) {
    it(`API: ${title}`, async () => {
      const r = (await api).find((c) => c.name === title);
      expect(r, 'check ran').toBeDefined();
      if (r?.error) throw new Error(r.error);
    });
  }
  for (const c of conformanceChecks('gpujs-node'))
    it.skipIf(!!c.skipReason)(c.name, c.run, 120_000);
});

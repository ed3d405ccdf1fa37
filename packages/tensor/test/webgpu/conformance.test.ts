/**
 * The shared conformance suite on the WebGPU backend (every op-table entry, forward against the
 * float64 reference, gradients against finite differences, no leaks), plus checks of what is
 * specific to this backend: errors that name limits, device-side index checks, the pool.
 */
import { describe, it } from 'vitest';
import { conformanceChecks } from '../../src/testing/index.js';
import { webGpuForTests } from './setup.js';

const gpu = await webGpuForTests();

/** Conformance checks skipped on WebGPU, each with its reason (none today). */
export const WEBGPU_SKIPS: Record<string, string> = {};

describe('conformance: webgpu', () => {
  if (!gpu.backend) {
    it.skip(`webgpu unavailable: ${gpu.reason}`, () => {});
    return;
  }
  for (const c of conformanceChecks('webgpu', { skip: WEBGPU_SKIPS })) {
    it.skipIf(!!c.skipReason)(c.name, c.run);
  }
});

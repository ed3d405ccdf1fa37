/**
 * The shared conformance suite on the WebGPU backend, twice: 'webgpu' (fused WGSL routines for
 * softmax, cross-entropy, the vocabulary head, normalization, GELU/SiLU and attention) and
 * 'webgpu-composed' (no routines: every composite op runs as its composition of primitive
 * kernels). Each check compares the forward pass with the float64 reference, gradients with
 * finite differences, and asserts that nothing leaks.
 */
import { describe, it } from 'vitest';
import { loadBackend, registerBackend } from '../../src/index.js';
import { conformanceChecks } from '../../src/testing/index.js';
import { createWebGpuBackend } from '../../src/webgpu/index.js';
import { TEST_ROUTES, webGpuForTests } from './setup.js';

const gpu = await webGpuForTests();
if (gpu.backend) {
  const composed = await createWebGpuBackend({
    routes: TEST_ROUTES,
    name: 'webgpu-composed',
    fusedRoutines: false,
  });
  registerBackend('webgpu-composed', () => composed);
  await loadBackend('webgpu-composed');
}

/** Conformance checks skipped on WebGPU, each with its reason (none today). */
export const WEBGPU_SKIPS: Record<string, string> = {};

for (const name of ['webgpu', 'webgpu-composed']) {
  describe(`conformance: ${name}`, () => {
    if (!gpu.backend) {
      it.skip(`${name} unavailable: ${gpu.reason}`, () => {});
      return;
    }
    for (const c of conformanceChecks(name, { skip: WEBGPU_SKIPS })) {
      it.skipIf(!!c.skipReason)(c.name, c.run);
    }
  });
}

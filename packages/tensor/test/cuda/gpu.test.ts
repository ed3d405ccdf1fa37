/**
 * The shared conformance suite on a real NVIDIA GPU, when this machine has one: 'cuda-gpu'
 * (fused routines) and 'cuda-gpu-composed'. Elsewhere (CI, no driver) it is skipped with the
 * reason the backend gives. The full GPU check, with training parity and benchmarks, is
 * device/cuda-check.sh.
 */
import { describe, it } from 'vitest';
import { createCudaBackend } from '../../src/cuda/index.js';
import { loadBackend, registerBackend } from '../../src/index.js';
import { conformanceChecks } from '../../src/testing/index.js';

let reason: string | undefined;
try {
  const fused = await createCudaBackend({ name: 'cuda-gpu' });
  const composed = await createCudaBackend({ name: 'cuda-gpu-composed', fusedRoutines: false });
  registerBackend('cuda-gpu', () => fused);
  registerBackend('cuda-gpu-composed', () => composed);
  await loadBackend('cuda-gpu');
  await loadBackend('cuda-gpu-composed');
  console.log(
    `[cuda gpu tests] ${fused.device.name} (sm_${fused.device.computeCapability}), kernels ${fused.kernelOrigin}`,
  );
} catch (e) {
  reason = e instanceof Error ? e.message : String(e);
  console.warn(`[cuda gpu tests skipped] ${reason}`);
}

for (const name of ['cuda-gpu', 'cuda-gpu-composed']) {
  describe(`conformance on a GPU: ${name}`, () => {
    if (reason) {
      it.skip(`${name} unavailable: ${reason}`, () => {});
      return;
    }
    for (const c of conformanceChecks(name)) it.skipIf(!!c.skipReason)(c.name, c.run);
  });
}

/**
 * The shared conformance suite on the cuda backend running on the CPU emulator of the CUDA
 * driver, twice: 'cuda-emulated' (fused routines: softmax, cross-entropy, the vocabulary head,
 * normalization, GELU/SiLU, blockwise attention) and 'cuda-emulated-composed' (every composite op
 * composed of primitive kernels). The kernels are the same CUDA C sources built as host C++, so
 * this checks the backend's host logic and the kernels' arithmetic against the float64
 * reference and finite differences; it does not check the GPU (see device/cuda-check.sh).
 */
import { describe, it } from 'vitest';
import { conformanceChecks } from '../../src/testing/index.js';
import { emulatedCuda } from './setup.js';

const emu = await emulatedCuda();

for (const name of ['cuda-emulated', 'cuda-emulated-composed']) {
  describe(`conformance: ${name}`, () => {
    if (!emu.dir) {
      it.skip(`${name} unavailable: ${emu.reason}`, () => {});
      return;
    }
    for (const c of conformanceChecks(name)) it.skipIf(!!c.skipReason)(c.name, c.run);
  });
}

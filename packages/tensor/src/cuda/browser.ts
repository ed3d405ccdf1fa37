/**
 * What a browser bundle gets for the cuda backend (package.json "browser" field): loading 'cuda'
 * there fails with the reason, and nothing Node-only (node:fs, koffi) is bundled.
 */
import { CudaUnavailableError } from './ffi.js';

export { CudaUnavailableError } from './ffi.js';

export async function createCudaBackend(): Promise<never> {
  throw new CudaUnavailableError(
    'driver',
    'CUDA is not available in a browser',
    "use the 'webgpu' backend (or 'cpu') in a browser; the cuda backend runs in Node on a machine with an NVIDIA GPU",
  );
}

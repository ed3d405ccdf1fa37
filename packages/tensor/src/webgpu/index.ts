/**
 * @lrw/tensor/webgpu: the WebGPU backend (WGSL kernels and fused routines). Registered lazily as
 * 'webgpu' in the backend registry (`await setBackend('webgpu')`), or created directly:
 *
 *   const gpu = await createWebGpuBackend();
 *   registerBackend('my-gpu', () => gpu);
 */
export { ERROR_CODES, sizeClass, WebGpuBackend, type WebGpuBackendOptions } from './backend.js';
export { type CreateWebGpuBackendOptions, createWebGpuBackend } from './create.js';
export {
  type DawnRoute,
  DEFAULT_DAWN_ROUTES,
  NO_ADAPTER_HELP,
  SOFTWARE_DAWN_ROUTES,
} from './device.js';
export type { Gpu, GpuAdapter, GpuDevice } from './gpu-types.js';
export { webGpuRoutines } from './routines.js';
export {
  type SoftwareWebGpu,
  SWIFTSHADER_ICDS,
  softwareDawnRoutes,
  useSoftwareWebGpu,
} from './software.js';

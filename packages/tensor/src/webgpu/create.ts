/**
 * A ready WebGPU backend: adapter, device, the WGSL kernels, and (by default) the fused WGSL
 * routines. The routines work on tensors, so this assembly sits above the Tensor class; the
 * backend itself (backend.ts, kernels.ts) does not know them.
 */
import { WebGpuBackend, type WebGpuBackendOptions } from './backend.js';
import { acquireAdapter, type DawnRoute, requestDevice } from './device.js';
import type { Gpu } from './gpu-types.js';
import { webGpuRoutines } from './routines.js';

export interface CreateWebGpuBackendOptions extends WebGpuBackendOptions {
  /** A `navigator.gpu`-like object to use (default: navigator.gpu, else the npm `webgpu` package). */
  gpu?: Gpu;
  /** Node: the Dawn routes to try in order (default `DEFAULT_DAWN_ROUTES`). */
  routes?: readonly DawnRoute[];
  /** Feature level asked of `gpu`/navigator.gpu (default core, then compatibility). */
  featureLevel?: 'core' | 'compatibility';
  powerPreference?: 'low-power' | 'high-performance';
  /** Register the fused WGSL routines (default true); false keeps every composite op composed. */
  fusedRoutines?: boolean;
}

/**
 * Requests an adapter and a device and returns a ready backend. Throws an error naming what to
 * install or set when no adapter exists, or when the `webgpu` package is missing (Node).
 */
export async function createWebGpuBackend(
  options: CreateWebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  const { gpu, routes, featureLevel, powerPreference, fusedRoutines, ...backendOptions } = options;
  const found = await acquireAdapter({ gpu, routes, featureLevel, powerPreference });
  const device = await requestDevice(found.adapter);
  // Rows of 1024+ get a workgroup each on core adapters; compatibility mode (the OpenGL ES
  // route, Mesa's llvmpipe) keeps one invocation per row (see WebGpuBackendOptions.rowLanes).
  const rowLanes = backendOptions.rowLanes ?? (found.featureLevel === 'core' ? 256 : 1);
  const backend = new WebGpuBackend(device, found.adapter, found.route, found.keepAlive, {
    ...backendOptions,
    rowLanes,
  });
  if (fusedRoutines !== false) {
    backend.registerRoutines(webGpuRoutines);
  }
  return backend;
}

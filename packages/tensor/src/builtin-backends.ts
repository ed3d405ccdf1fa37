/**
 * The built-in backends, registered by the package entry (index.ts), the one module that knows
 * concrete backends: everything below it finds backends through the registry.
 * - 'cpu': wasm SIMD (or native BLAS) matmul and wasm binary kernels, reference kernels for the
 *   rest, fused routines (or all reference with LRW_TENSOR_CPU=reference / without wasm SIMD).
 *   Created on first use, so importing the package is enough to compute.
 * - 'cpu-reference': always the reference kernels and compositions, the living definition the
 *   fast ones are tested against.
 * - 'webgpu': WGSL kernels (src/webgpu), imported only when first loaded; in Node it needs the
 *   optional npm package `webgpu` (Dawn) and an adapter (see README "Backends").
 * - 'gpujs': gpu.js kernels on WebGL float textures (src/gpujs), imported only when first loaded;
 *   it needs the optional npm package `gpu.js` and a WebGL context (a browser, or headless-gl).
 * - 'cuda': CUDA C kernels and cuBLAS on an NVIDIA GPU (src/cuda), imported only when first
 *   loaded; it needs the optional npm package `koffi` and the NVIDIA driver.
 */
import { createCpuBackend } from './cpu/cpu-backend.js';
import { createDefaultCpuBackend } from './cpu-wasm/fast-backend.js';
import { registerBackend } from './registry.js';

let registered = false;

/** Registers 'cpu', 'cpu-reference', 'webgpu', 'gpujs' and 'cuda' (once). */
export function registerBuiltinBackends(): void {
  if (registered) return;
  registered = true;
  registerBackend('cpu', () => createDefaultCpuBackend(), { loadOnDemand: true });
  registerBackend('cpu-reference', () => createCpuBackend({ name: 'cpu-reference' }), {
    loadOnDemand: true,
  });
  registerBackend('webgpu', async () => (await import('./webgpu/index.js')).createWebGpuBackend());
  registerBackend('gpujs', async () => (await import('./gpujs/index.js')).createGpuJsBackend());
  registerBackend('cuda', async () => (await import('./cuda/index.js')).createCudaBackend());
}

/**
 * Backend registry with lazy loading: a factory runs on first use, so a GPU backend's module
 * (and its native bindings) is imported only when someone asks for it, never on a CPU-only install.
 */
import type { Backend } from './backend.js';
import { createCpuBackend } from './cpu/cpu-backend.js';
import { createDefaultCpuBackend } from './cpu-wasm/fast-backend.js';

type Factory = () => Backend | Promise<Backend>;

const factories = new Map<string, Factory>();
const instances = new Map<string, Backend>();
const pending = new Map<string, Promise<Backend>>();
let current = 'cpu';

/**
 * Registers a backend factory under `name` (replacing an unloaded one of the same name).
 * Example: `registerBackend('webgpu', async () => (await import('./webgpu.js')).create())`.
 */
export function registerBackend(name: string, factory: Factory): void {
  if (instances.has(name)) {
    throw new Error(
      `registerBackend: backend '${name}' is already loaded; pick another name or register before first use`,
    );
  }
  factories.set(name, factory);
}

/** Names of registered backends (loaded or not). */
export function backendNames(): string[] {
  return [...factories.keys()];
}

/** Loads (once) and returns the backend `name`. */
export async function loadBackend(name: string): Promise<Backend> {
  const ready = instances.get(name);
  if (ready) return ready;
  let p = pending.get(name);
  if (!p) {
    const factory = factories.get(name);
    if (!factory) {
      throw new Error(
        `loadBackend: no backend named '${name}'; registered: ${backendNames().join(', ')}`,
      );
    }
    p = Promise.resolve(factory()).then((b) => {
      instances.set(name, b);
      pending.delete(name);
      return b;
    });
    p.catch(() => pending.delete(name));
    pending.set(name, p);
  }
  return p;
}

/** Makes `name` the backend for new tensors, loading it first. */
export async function setBackend(name: string): Promise<Backend> {
  const b = await loadBackend(name);
  current = name;
  return b;
}

/** The backend `name` (default: the current one); it must already be loaded. */
export function getBackend(name: string = current): Backend {
  const b = instances.get(name);
  if (b) return b;
  const factory = factories.get(name);
  if (factory && (name === 'cpu' || name === 'cpu-reference')) {
    // The CPU backend is synchronous; load it on demand so `import` alone is enough.
    const made = factory();
    if (!(made instanceof Promise)) {
      instances.set(name, made);
      return made;
    }
  }
  throw new Error(
    factory
      ? `getBackend: backend '${name}' is registered but not loaded; await setBackend('${name}') or loadBackend('${name}') first`
      : `getBackend: no backend named '${name}'; registered: ${backendNames().join(', ')}`,
  );
}

/** The name of the current backend. */
export function currentBackendName(): string {
  return current;
}

// 'cpu': wasm SIMD matmul over tensors in a shared WebAssembly memory, reference kernels for the
// rest (or all reference with LRW_TENSOR_CPU=reference / without wasm SIMD). 'cpu-reference':
// always the reference kernels, the living definition the fast ones are tested against.
registerBackend('cpu', () => createDefaultCpuBackend());
registerBackend('cpu-reference', () => createCpuBackend({ name: 'cpu-reference' }));
// 'webgpu': WGSL kernels (src/webgpu), imported only when first loaded; in Node it needs the optional
// npm package `webgpu` (Dawn) and an adapter (see README "WebGPU backend").
registerBackend('webgpu', async () => (await import('./webgpu/index.js')).createWebGpuBackend());
// 'gpujs': gpu.js kernels on WebGL2 float textures (src/gpujs), imported only when first loaded; it
// needs the optional npm package `gpu.js` and a WebGL context (a browser, or headless-gl in Node).
registerBackend('gpujs', async () => (await import('./gpujs/index.js')).createGpuJsBackend());
// 'cuda': CUDA C kernels and cuBLAS on an NVIDIA GPU (src/cuda), imported only when first loaded;
// it needs the optional npm package `koffi` and the NVIDIA driver (see README "CUDA backend").
registerBackend('cuda', async () => (await import('./cuda/index.js')).createCudaBackend());

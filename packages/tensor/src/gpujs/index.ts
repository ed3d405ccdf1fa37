/**
 * @lrw/tensor/gpujs: the gpu.js backend (WebGL2 float textures in browsers, headless-gl's
 * WebGL1 in Node). Registered lazily as 'gpujs' (`await setBackend('gpujs')`), or created
 * directly:
 *
 *   const gl = await createGpuJsBackend();
 *   registerBackend('my-gl', () => gl);
 */
import { GpuJsBackend, type GpuJsBackendOptions } from './backend.js';
import { nativeFunctions } from './glsl.js';
import type { GpuJsInstance, GpuJsModule } from './gpujs-types.js';
import { primitiveKernels } from './kernels.js';
import { gpuJsRoutines } from './routines.js';

export {
  capacityClass,
  GpuJsBackend,
  type GpuJsBackendOptions,
  MAX_ELEMENTS,
  textureSize,
} from './backend.js';
export type { GpuJsModule } from './gpujs-types.js';
export { gpuJsRoutines } from './routines.js';

export interface CreateGpuJsBackendOptions extends GpuJsBackendOptions {
  /** The gpu.js module (default: `globalThis.GPU` from a script tag, else `import('gpu.js')`). */
  gpujs?: GpuJsModule;
  /** A WebGL2 (or WebGL1) context to run on (default: gpu.js makes one). */
  context?: unknown;
  canvas?: unknown;
  /** Register the fused routines (default true); false keeps every composite op composed. */
  fusedRoutines?: boolean;
}

/** Why the backend cannot start in Node without a headless-gl context, and what to do. */
export const NO_HEADLESS_GL_HELP =
  "in Node, gpu.js runs on headless-gl (npm package `gl`, an optional dependency of gpu.js): it compiles ANGLE from source at install time (Debian: apt-get install libxi-dev libglu1-mesa-dev libglew-dev pkg-config python3 make g++, then npm rebuild gl: about 4 minutes on 2 cores) and needs an X display at run time (without a GPU: apt-get install xvfb; Xvfb :99 & then DISPLAY=:99). Or use the 'cpu' or 'webgpu' backend";

/** Why headless-gl gave no context: the package is missing or unbuilt, or there is no display. */
async function headlessGlProblem(): Promise<string> {
  const specifier = 'gl';
  try {
    await import(/* @vite-ignore */ specifier);
  } catch (error) {
    return `the npm package 'gl' is not installed or not built (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
  }
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  return env?.DISPLAY
    ? `headless-gl could not open a context on DISPLAY=${env.DISPLAY}`
    : 'headless-gl is installed but DISPLAY is not set (it needs an X server)';
}

/** Loads gpu.js: a global `GPU` (the browser bundle's script tag) or the npm package. */
export async function loadGpuJs(): Promise<GpuJsModule> {
  const global = (globalThis as { GPU?: GpuJsModule }).GPU;
  if (global && typeof global.GPU === 'function') return global;
  // A variable specifier keeps bundlers from pulling gpu.js into @lrw/tensor's bundle.
  const specifier = 'gpu.js';
  let mod: Partial<GpuJsModule> & { default?: Partial<GpuJsModule> };
  try {
    mod = await import(/* @vite-ignore */ specifier);
  } catch (error) {
    throw new Error(
      `the gpujs backend needs the optional npm package 'gpu.js' (npm install gpu.js): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const lib = mod.GPU
    ? mod
    : mod.default?.GPU
      ? mod.default
      : (globalThis as { GPU?: GpuJsModule }).GPU;
  if (!lib || typeof lib.GPU !== 'function') {
    throw new Error("the gpujs backend could not find gpu.js's GPU class in the loaded module");
  }
  return lib as GpuJsModule;
}

/**
 * Creates a gpu.js instance on WebGL2 (browsers) or headless-gl (Node), the backend on it, and
 * its fused routines. Throws an error naming the cause and the fix when no context exists.
 */
export async function createGpuJsBackend(
  options: CreateGpuJsBackendOptions = {},
): Promise<GpuJsBackend> {
  const { gpujs, context, canvas, fusedRoutines, ...backendOptions } = options;
  const lib = gpujs ?? (await loadGpuJs());
  const inNode =
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions
      ?.node === 'string' && typeof (globalThis as { document?: unknown }).document === 'undefined';
  let mode: string;
  if (context) mode = 'gpu';
  else if (lib.GPU.isWebGL2Supported) mode = 'webgl2';
  else if (inNode && lib.GPU.isHeadlessGLSupported) mode = 'headlessgl';
  else if (inNode) {
    throw new Error(`gpujs: ${await headlessGlProblem()}; ${NO_HEADLESS_GL_HELP}`);
  } else {
    throw new Error(
      'gpujs: this browser exposes no WebGL2 (canvas.getContext("webgl2") failed); use the cpu or webgpu backend',
    );
  }
  const gpu: GpuJsInstance = new lib.GPU({ mode, ...(context ? { context, canvas } : {}) });
  const webgl2 = mode !== 'headlessgl' && !(context && !('RGBA32F' in (context as object)));
  for (const [name, source] of Object.entries(nativeFunctions(webgl2))) {
    gpu.addNativeFunction(name, source);
  }
  const backend = new GpuJsBackend(lib, gpu, primitiveKernels, backendOptions);
  if (fusedRoutines !== false) {
    backend.registerRoutines(gpuJsRoutines);
  }
  return backend;
}

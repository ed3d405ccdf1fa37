/**
 * Finding a WebGPU adapter and device: `navigator.gpu` in browsers (and any runtime that has
 * one), else the npm `webgpu` package (Dawn for Node), imported lazily so a CPU-only install
 * never loads it. Without a GPU, Dawn's OpenGL ES backend over Mesa's llvmpipe works in
 * compatibility mode (`EGL_PLATFORM=surfaceless`), and so does SwiftShader's Vulkan driver
 * (`VK_ICD_FILENAMES`), see /docs in README "WebGPU backend".
 */
import type { Gpu, GpuAdapter, GpuDevice } from './gpu-types.js';

/** One way to ask Dawn for an adapter: flags for `create()` and the feature level. */
export interface DawnRoute {
  /** Flags for the `webgpu` package's `create(flags)`, e.g. `['backend=opengles']`. */
  flags: string[];
  featureLevel: 'core' | 'compatibility';
  /** Environment variables set (when unset) before `create()`. */
  env?: Record<string, string>;
}

/**
 * Routes tried in order in Node when no `navigator.gpu` exists: Dawn's default (a real GPU
 * through Vulkan/Metal/D3D12), then the OpenGL ES backend in compatibility mode (Mesa llvmpipe
 * works headless with EGL_PLATFORM=surfaceless).
 */
export const DEFAULT_DAWN_ROUTES: readonly DawnRoute[] = [
  { flags: [], featureLevel: 'core' },
  {
    flags: ['backend=opengles'],
    featureLevel: 'compatibility',
    env: { EGL_PLATFORM: 'surfaceless' },
  },
];

/**
 * Routes for machines without a GPU (CI, tests): Dawn's OpenGL ES backend over Mesa llvmpipe in
 * compatibility mode first, then Vulkan (with VK_ICD_FILENAMES pointing at SwiftShader's ICD,
 * e.g. the one Debian's chromium ships: /usr/lib/chromium/vk_swiftshader_icd.json).
 */
export const SOFTWARE_DAWN_ROUTES: readonly DawnRoute[] = [
  {
    flags: ['backend=opengles'],
    featureLevel: 'compatibility',
    env: { EGL_PLATFORM: 'surfaceless' },
  },
  { flags: ['backend=vulkan'], featureLevel: 'core' },
];

export const NO_ADAPTER_HELP =
  'no WebGPU adapter found. In a browser, use one with WebGPU enabled (Chrome/Edge 113+, or ' +
  'headless Chromium with --enable-unsafe-webgpu on an http://127.0.0.1 or https page). In Node, ' +
  'install the optional dependency `webgpu` (npm install webgpu) and either have a GPU driver ' +
  '(Vulkan/Metal/D3D12), or, without a GPU: the Mesa EGL packages (Debian: apt-get install ' +
  'libegl1 libegl-mesa0) for the OpenGL ES route (EGL_PLATFORM=surfaceless, set automatically), ' +
  'or libvulkan1 plus VK_ICD_FILENAMES pointing at a SwiftShader ICD (Debian chromium ships ' +
  '/usr/lib/chromium/vk_swiftshader_icd.json)';

export interface AcquiredGpu {
  adapter: GpuAdapter;
  /** Which route found it (for messages and benchmarks). */
  route: string;
  /** The feature level the adapter was requested with. */
  featureLevel: 'core' | 'compatibility';
  /**
   * The object `create()` returned. It must stay reachable as long as the device lives: Dawn
   * aborts the process when it is garbage-collected under a live device.
   */
  keepAlive: unknown;
}

interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

function browserGpu(): Gpu | undefined {
  const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
  return nav?.gpu;
}

async function importDawn(): Promise<DawnModule> {
  // A variable specifier: bundlers leave it alone, browsers never reach this line.
  const specifier = 'webgpu';
  try {
    return (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (e) {
    throw new Error(
      `webgpu backend: the npm package 'webgpu' (Dawn for Node) could not be loaded ` +
        `(${e instanceof Error ? e.message.split('\n')[0] : String(e)}); install it with ` +
        `'npm install webgpu' (an optional dependency of @lrw/tensor), or run in a browser with navigator.gpu`,
    );
  }
}

/** Finds an adapter: `gpu` if given, else navigator.gpu, else Dawn through `routes`. */
export async function acquireAdapter(
  options: {
    gpu?: Gpu;
    routes?: readonly DawnRoute[];
    featureLevel?: 'core' | 'compatibility';
    powerPreference?: 'low-power' | 'high-performance';
  } = {},
): Promise<AcquiredGpu> {
  const given = options.gpu ?? browserGpu();
  if (given) {
    const levels = options.featureLevel
      ? [options.featureLevel]
      : (['core', 'compatibility'] as const);
    for (const featureLevel of levels) {
      const adapter = await given.requestAdapter({
        featureLevel,
        powerPreference: options.powerPreference,
      });
      if (adapter) return { adapter, route: 'navigator.gpu', featureLevel, keepAlive: given };
    }
    throw new Error(`webgpu backend: navigator.gpu is present but ${NO_ADAPTER_HELP}`);
  }
  const dawn = await importDawn();
  // Dawn's GPU* constructors and flag objects (GPUBufferUsage, ...) as globals, as in a browser.
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process
    ?.env;
  const tried: string[] = [];
  for (const route of options.routes ?? DEFAULT_DAWN_ROUTES) {
    if (env) for (const [k, v] of Object.entries(route.env ?? {})) env[k] ??= v;
    const label = `create(${JSON.stringify(route.flags)}) + ${route.featureLevel}`;
    try {
      const gpu = dawn.create(route.flags);
      const adapter = await gpu.requestAdapter({
        featureLevel: route.featureLevel,
        powerPreference: options.powerPreference,
      });
      if (adapter) {
        return { adapter, route: label, featureLevel: route.featureLevel, keepAlive: gpu };
      }
      tried.push(`${label}: no adapter`);
    } catch (e) {
      tried.push(`${label}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  throw new Error(`webgpu backend: ${NO_ADAPTER_HELP}. Tried: ${tried.join('; ')}`);
}

/** Limits this backend asks for, capped by what the adapter offers. */
export function desiredLimits(adapter: GpuAdapter): Record<string, number> {
  const L = adapter.limits;
  const want: Record<string, number> = {
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxStorageBuffersPerShaderStage: 8,
    maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
    maxBufferSize: L.maxBufferSize,
  };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(want)) {
    const cap = L[k];
    if (typeof cap === 'number') out[k] = Math.min(v, cap);
  }
  return out;
}

export async function requestDevice(adapter: GpuAdapter): Promise<GpuDevice> {
  return adapter.requestDevice({ requiredLimits: desiredLimits(adapter), label: 'lrw-tensor' });
}

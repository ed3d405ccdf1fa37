/**
 * WebGPU without a GPU: Dawn's OpenGL ES backend over Mesa llvmpipe (compatibility mode,
 * EGL_PLATFORM=surfaceless) first, then Vulkan (a real driver, or the SwiftShader ICD that
 * Debian's chromium ships, found and passed through VK_ICD_FILENAMES). For CI and for checking a
 * model on WebGPU on a CPU-only machine; it is slow (software rasterizer drivers).
 */
import { platform } from '../platform/node.js';
import { loadBackend, registerBackend } from '../registry.js';
import type { WebGpuBackend } from './backend.js';
import { createWebGpuBackend } from './create.js';
import { type DawnRoute, SOFTWARE_DAWN_ROUTES } from './device.js';

/** Where Debian's and Ubuntu's chromium packages put SwiftShader's Vulkan ICD. */
export const SWIFTSHADER_ICDS: readonly string[] = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/** `SOFTWARE_DAWN_ROUTES`, or only those whose flags mention `only` ('opengles', 'vulkan'). */
export function softwareDawnRoutes(only?: string): readonly DawnRoute[] {
  return only
    ? SOFTWARE_DAWN_ROUTES.filter((r) => r.flags.some((f) => f.includes(only)))
    : SOFTWARE_DAWN_ROUTES;
}

export interface SoftwareWebGpu {
  backend?: WebGpuBackend;
  /** Why there is none: the no-adapter error's message (what to install or set). */
  reason?: string;
}

/**
 * Creates a WebGPU backend on a software adapter and registers it as `name` (default 'webgpu'),
 * so `setBackend('webgpu')` and `{ backend: 'webgpu' }` use it. Sets EGL_PLATFORM and
 * VK_ICD_FILENAMES only where they are unset. Never throws for a missing adapter: returns the
 * reason instead, so a test can skip with it.
 *
 *   const { backend, reason } = await useSoftwareWebGpu({ only: process.env.LRW_WEBGPU_TEST_ROUTE });
 */
export async function useSoftwareWebGpu(
  options: { only?: string; name?: string } = {},
): Promise<SoftwareWebGpu> {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process
    ?.env;
  if (env) {
    env.EGL_PLATFORM ??= 'surfaceless';
    const icd = SWIFTSHADER_ICDS.find((p) => platform.fileExists(p));
    if (icd) env.VK_ICD_FILENAMES ??= icd;
  }
  const name = options.name ?? 'webgpu';
  try {
    const backend = await createWebGpuBackend({ routes: softwareDawnRoutes(options.only) });
    registerBackend(name, () => backend);
    await loadBackend(name);
    return { backend };
  } catch (e) {
    return { reason: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Finds a WebGPU adapter for the tests on a machine without a GPU: Dawn's OpenGL ES backend over
 * Mesa llvmpipe (compatibility mode, EGL_PLATFORM=surfaceless) first, then Vulkan (a real
 * driver, or the SwiftShader ICD that Debian's chromium ships, through VK_ICD_FILENAMES). The
 * backend is registered as 'webgpu'; without an adapter the tests skip with the reason printed.
 */
import { existsSync } from 'node:fs';
import { loadBackend, registerBackend } from '../../src/index.js';
import type { WebGpuBackend } from '../../src/webgpu/backend.js';
import {
  createWebGpuBackend,
  type DawnRoute,
  SOFTWARE_DAWN_ROUTES,
} from '../../src/webgpu/index.js';

const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/**
 * The routes the tests try: `SOFTWARE_DAWN_ROUTES` (OpenGL ES, then Vulkan), or only those whose
 * flags mention LRW_WEBGPU_TEST_ROUTE (e.g. `LRW_WEBGPU_TEST_ROUTE=vulkan` for SwiftShader).
 */
export const TEST_ROUTES: readonly DawnRoute[] = process.env.LRW_WEBGPU_TEST_ROUTE
  ? SOFTWARE_DAWN_ROUTES.filter((r) =>
      r.flags.some((f) => f.includes(process.env.LRW_WEBGPU_TEST_ROUTE as string)),
    )
  : SOFTWARE_DAWN_ROUTES;

export interface WebGpuForTests {
  backend?: WebGpuBackend;
  /** Why there is none (printed by the skipped tests). */
  reason?: string;
}

let found: Promise<WebGpuForTests> | undefined;

/** The test backend (created once per test file), registered as 'webgpu'. */
export function webGpuForTests(): Promise<WebGpuForTests> {
  found ??= (async () => {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const icd = SWIFTSHADER_ICDS.find((p) => existsSync(p));
    if (icd) process.env.VK_ICD_FILENAMES ??= icd;
    try {
      const backend = await createWebGpuBackend({ routes: TEST_ROUTES });
      registerBackend('webgpu', () => backend);
      await loadBackend('webgpu');
      return { backend };
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      console.warn(`[webgpu tests skipped] ${reason}`);
      return { reason };
    }
  })();
  return found;
}

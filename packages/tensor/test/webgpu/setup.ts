/**
 * Finds a WebGPU adapter for the tests on a machine without a GPU: Dawn's OpenGL ES backend over
 * Mesa llvmpipe (compatibility mode, EGL_PLATFORM=surfaceless) first, then Vulkan (a real
 * driver, or the SwiftShader ICD that Debian's chromium ships, through VK_ICD_FILENAMES). The
 * backend is registered as 'webgpu'; without an adapter the tests skip with the reason printed.
 */
import type { WebGpuBackend } from '../../src/webgpu/backend.js';
import { type DawnRoute, softwareDawnRoutes, useSoftwareWebGpu } from '../../src/webgpu/index.js';

/**
 * The routes the tests try: `SOFTWARE_DAWN_ROUTES` (OpenGL ES, then Vulkan), or only those whose
 * flags mention LRW_WEBGPU_TEST_ROUTE (e.g. `LRW_WEBGPU_TEST_ROUTE=vulkan` for SwiftShader).
 */
export const TEST_ROUTES: readonly DawnRoute[] = softwareDawnRoutes(
  process.env.LRW_WEBGPU_TEST_ROUTE,
);

export interface WebGpuForTests {
  backend?: WebGpuBackend;
  /** Why there is none (printed by the skipped tests). */
  reason?: string;
}

let found: Promise<WebGpuForTests> | undefined;

/** The test backend (created once per test file), registered as 'webgpu'. */
export function webGpuForTests(): Promise<WebGpuForTests> {
  found ??= useSoftwareWebGpu({ only: process.env.LRW_WEBGPU_TEST_ROUTE }).then((r) => {
    if (r.reason) console.warn(`[webgpu tests skipped] ${r.reason}`);
    return r;
  });
  return found;
}

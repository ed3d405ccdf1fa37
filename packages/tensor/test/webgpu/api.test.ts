/** The @lrw/tensor/webgpu surface and its errors, checked without a GPU. */
import { describe, expect, it, vi } from 'vitest';
import { backendNames } from '../../src/index.js';
import * as webgpu from '../../src/webgpu/index.js';

describe('@lrw/tensor/webgpu', () => {
  it('exports the backend factory, its class, the routes and the routines', () => {
    expect(Object.keys(webgpu).sort()).toEqual([
      'DEFAULT_DAWN_ROUTES',
      'ERROR_CODES',
      'NO_ADAPTER_HELP',
      'SOFTWARE_DAWN_ROUTES',
      'SWIFTSHADER_ICDS',
      'WebGpuBackend',
      'createWebGpuBackend',
      'sizeClass',
      'softwareDawnRoutes',
      'useSoftwareWebGpu',
      'webGpuRoutines',
    ]);
    expect(Object.keys(webgpu.webGpuRoutines).sort()).toEqual([
      'adamwStep',
      'crossEntropy',
      'gelu',
      'layerNorm',
      'linearCrossEntropy',
      'logSoftmax',
      'rmsNorm',
      'scaledDotProductAttention',
      'silu',
      'softmax',
    ]);
  });

  it("is registered lazily as 'webgpu'", () => {
    expect(backendNames()).toContain('webgpu');
  });

  it('without an adapter, the error says what to install or set', async () => {
    const noAdapter = { requestAdapter: async () => null };
    await expect(webgpu.createWebGpuBackend({ gpu: noAdapter })).rejects.toThrow(
      /no WebGPU adapter found.*npm install webgpu.*libegl1 libegl-mesa0.*EGL_PLATFORM=surfaceless.*VK_ICD_FILENAMES/,
    );
  });

  it("without the npm package 'webgpu', the error says to install it", async () => {
    vi.doMock('webgpu', () => {
      throw new Error("Cannot find package 'webgpu'");
    });
    try {
      await expect(webgpu.createWebGpuBackend()).rejects.toThrow(
        /the npm package 'webgpu' \(Dawn for Node\) could not be loaded.*npm install webgpu/,
      );
    } finally {
      vi.doUnmock('webgpu');
    }
  });

  it('size classes: powers of two to 256 bytes, then quarter steps (at most 25% slack)', () => {
    expect([1, 16, 17, 100, 256, 257, 4000, 4097, 5000].map(webgpu.sizeClass)).toEqual([
      16, 16, 32, 128, 256, 320, 4096, 5120, 5120,
    ]);
    for (let b = 1; b < 1 << 20; b = Math.ceil(b * 1.37))
      expect(webgpu.sizeClass(b)).toBeLessThanOrEqual(Math.max(256, b * 1.25 + 16));
  });

  it('useSoftwareWebGpu returns the reason instead of throwing when no adapter exists', async () => {
    // a route name that matches no route: nothing to try, so no adapter
    const r = await webgpu.useSoftwareWebGpu({ only: 'no-such-route', name: 'webgpu-none' });
    expect(r.backend).toBeUndefined();
    expect(r.reason).toMatch(/adapter/i);
    expect(backendNames()).toContain('webgpu');
    expect(webgpu.softwareDawnRoutes('vulkan').length).toBeLessThan(
      webgpu.SOFTWARE_DAWN_ROUTES.length,
    );
  });
});

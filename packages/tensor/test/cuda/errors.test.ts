/**
 * Starting the cuda backend where something is missing: each error names what is missing and
 * how to fix it. The FFI package, the driver (an empty LRW_CUDA_LIB_DIR, a library that is not
 * the driver), a GPU (cuInit's CUDA_ERROR_NO_DEVICE and the stub library, injected into the CPU
 * emulator of the driver), cuBLAS, and NVRTC when no ahead-of-time image exists. Also: the
 * run-time compilation path (the emulator's NVRTC stand-in, then the on-disk cache), and the
 * lazy registration as 'cuda' on this machine.
 */
import { copyFileSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CudaUnavailableError, createCudaBackend } from '../../src/cuda/index.js';
import { librarySearch } from '../../src/cuda/libraries.js';
import { backendNames, loadBackend } from '../../src/index.js';
import { emulatedCuda } from './setup.js';

const emu = await emulatedCuda();
const why = emu.dir ? '' : ` (skipped: ${emu.reason})`;
const fatbin = fileURLToPath(
  new URL('../../dist/cuda-kernels/lrw-kernels.fatbin', import.meta.url),
);
const fresh = () => mkdtempSync(join(tmpdir(), 'lrw-cuda-libs-'));

async function failure(p: Promise<unknown>): Promise<CudaUnavailableError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(CudaUnavailableError.isInstance(e), String(e)).toBe(true);
  return e as CudaUnavailableError;
}

/** A directory with links to some of the emulator's libraries. */
function only(...libs: string[]): string {
  const dir = fresh();
  for (const l of libs) symlinkSync(join(emu.dir!, l), join(dir, l));
  return dir;
}

afterEach(() => {
  delete process.env.LRW_CUDA_EMU_INIT;
  delete process.env.LRW_CUDA_EMU_DEVICES;
});

describe('cuda backend start-up errors', () => {
  it('without the FFI package: names koffi and how to install it', async () => {
    const e = await failure(createCudaBackend({ ffiModule: 'koffi-not-installed-here' }));
    expect(e.missing).toBe('ffi');
    expect(e.message).toMatch(
      /the FFI package `koffi-not-installed-here` could not be imported.*Fix: install the optional dependency koffi \(`npm install koffi`/,
    );
  });

  it('without the driver: names libcuda.so.1, where it looked, and the fix', async () => {
    const dir = fresh();
    const e = await failure(createCudaBackend({ libDirs: [dir], systemSearch: false }));
    expect(e.missing).toBe('driver');
    expect(e.message).toContain(
      'libcuda.so.1 (libcuda.so.1 / libcuda.so) not found or not loadable',
    );
    expect(e.message).toContain(dir);
    expect(e.fix).toMatch(/install the NVIDIA driver .*LRW_CUDA_LIB_DIR/);
  });

  it('LRW_CUDA_LIB_DIR is searched first (colon-separated)', () => {
    expect(librarySearch({ libDirs: ['/x'] }, { LRW_CUDA_LIB_DIR: '/a:/b' })).toEqual({
      first: ['/a', '/b', '/x'],
      system: true,
    });
  });

  it.skipIf(!emu.dir)(
    `a library that is not the driver: names the missing symbol${why}`,
    async () => {
      const dir = fresh();
      copyFileSync(join(emu.dir!, 'libnvrtc.so.13'), join(dir, 'libcuda.so.1'));
      const e = await failure(createCudaBackend({ libDirs: [dir], systemSearch: false }));
      expect(e.missing).toBe('driver');
      expect(e.message).toMatch(
        /libcuda\.so\.1 is not a usable CUDA driver library: symbol cuInit is missing/,
      );
    },
  );

  it.skipIf(!emu.dir)(
    `no GPU (cuInit: CUDA_ERROR_NO_DEVICE, or no devices): says so and what to check${why}`,
    async () => {
      process.env.LRW_CUDA_EMU_INIT = '100';
      let e = await failure(createCudaBackend({ libDirs: [emu.dir!], systemSearch: false }));
      expect(e.missing).toBe('gpu');
      expect(e.message).toMatch(
        /no CUDA GPU found \(cuInit: CUDA_ERROR_NO_DEVICE \(no CUDA-capable device is detected\)\).*nvidia-smi.*CUDA_VISIBLE_DEVICES/,
      );
      delete process.env.LRW_CUDA_EMU_INIT;
      process.env.LRW_CUDA_EMU_DEVICES = '0';
      e = await failure(createCudaBackend({ libDirs: [emu.dir!], systemSearch: false }));
      expect(e.missing).toBe('gpu');
      process.env.LRW_CUDA_EMU_DEVICES = '1';
      e = await failure(createCudaBackend({ libDirs: [emu.dir!], systemSearch: false, device: 3 }));
      expect(e.message).toMatch(/GPU 3 does not exist \(this machine has 1\).*LRW_CUDA_DEVICE/);
    },
  );

  it.skipIf(!emu.dir)(
    `the toolkit's stub libcuda: says it is a stub and to install the driver${why}`,
    async () => {
      process.env.LRW_CUDA_EMU_INIT = '34';
      const e = await failure(createCudaBackend({ libDirs: [emu.dir!], systemSearch: false }));
      expect(e.missing).toBe('driver');
      expect(e.message).toMatch(
        /is the CUDA toolkit's stub library, not the driver.*CUDA_ERROR_STUB_LIBRARY.*install the NVIDIA driver/,
      );
    },
  );

  it.skipIf(!emu.dir)(`without cuBLAS: names libcublas and where to get it${why}`, async () => {
    const e = await failure(
      createCudaBackend({ libDirs: [only('libcuda.so.1')], systemSearch: false }),
    );
    expect(e.missing).toBe('cublas');
    expect(e.message).toContain(
      'libcublas.so.13 (libcublas.so.13 / libcublas.so.12 / libcublas.so.11) not found',
    );
    expect(e.fix).toMatch(/CUDA toolkit.*pip install nvidia-cublas-cu12.*LRW_CUDA_LIB_DIR/);
    // (cuBLASLt beside cuBLAS is loaded first, by path: the emulator's libcublas has no RUNPATH,
    // so every emulated backend above and in the other files depends on that.)
  });

  it.skipIf(!emu.dir)(
    `no ahead-of-time image and no NVRTC: names libnvrtc and both fixes${why}`,
    async () => {
      const e = await failure(
        createCudaBackend({
          libDirs: [only('libcuda.so.1', 'libcublas.so.13', 'libcublasLt.so.13')],
          systemSearch: false,
          kernels: 'nvrtc',
        }),
      );
      expect(e.missing).toBe('nvrtc');
      expect(e.message).toContain('libnvrtc.so.13');
      expect(e.fix).toMatch(/nvcc is on the PATH.*install NVRTC/);
    },
  );

  it.skipIf(!emu.dir)(`run-time compilation: NVRTC once, then the cache${why}`, async () => {
    process.env.LRW_CUDA_CACHE_DIR = fresh();
    const a = await createCudaBackend({
      libDirs: [emu.dir!],
      systemSearch: false,
      kernels: 'nvrtc',
    });
    expect(a.kernelOrigin).toBe('nvrtc');
    a.destroy();
    const b = await createCudaBackend({
      libDirs: [emu.dir!],
      systemSearch: false,
      kernels: 'nvrtc',
    });
    expect(b.kernelOrigin).toBe('nvrtc-cache');
    b.destroy();
  });

  it.skipIf(!emu.dir || !existsSync(fatbin))(
    `an ahead-of-time image the driver refuses: NVRTC compiles instead${why || (existsSync(fatbin) ? '' : ' (skipped: no ahead-of-time image built here)')}`,
    async () => {
      process.env.LRW_CUDA_EMU_REJECT_FATBIN = '1';
      process.env.LRW_CUDA_CACHE_DIR = fresh();
      try {
        const b = await createCudaBackend({ libDirs: [emu.dir!], systemSearch: false });
        expect(b.kernelOrigin).toBe('nvrtc');
        b.destroy();
      } finally {
        delete process.env.LRW_CUDA_EMU_REJECT_FATBIN;
      }
    },
  );

  it("'cuda' is registered lazily; on a machine without the driver, loading it says what is missing", async () => {
    expect(backendNames()).toContain('cuda');
    const r = await loadBackend('cuda').then(
      (b) => ({ b }),
      (e: unknown) => ({ e }),
    );
    if ('b' in r) {
      console.log(
        `[cuda] a real GPU is here: ${(r.b as { device?: { name: string } }).device?.name}`,
      );
      return;
    }
    expect(CudaUnavailableError.isInstance(r.e), String(r.e)).toBe(true);
    expect((r.e as Error).message).toMatch(/^cuda backend: /);
  });
});

/**
 * @lrw/tensor/cuda: the CUDA backend (driver API, CUDA C kernels, cuBLAS) for NVIDIA GPUs,
 * loaded at run time through the `koffi` FFI: nothing CUDA-related is needed to install or
 * import @lrw/tensor. Registered lazily as 'cuda' (`await setBackend('cuda')`), or created
 * directly:
 *
 *   const gpu = await createCudaBackend({ tf32: true });
 *   registerBackend('my-gpu', () => gpu);
 */
import { CudaBackend, type CudaDevice } from './backend.js';
import { Cublas } from './cublas.js';
import { DEVICE_ATTRIBUTE, Driver, initFailure } from './driver.js';
import { CudaUnavailableError, importKoffi, type NativePointer } from './ffi.js';
import { primitiveKernels } from './kernels.js';
import { DRIVER_FIX, LIBRARY_NAMES, librarySearch, loadLibrary } from './libraries.js';
import { builtImage, type KernelImage, kernelDirs, kernelSource, nvrtcImage } from './module.js';
import { cudaRoutines } from './routines.js';

export { CudaBackend, type CudaBuf, type CudaDevice, ERROR_CODES, sizeClass } from './backend.js';
export { CudaError } from './driver.js';
export { type CudaMissing, CudaUnavailableError } from './ffi.js';
export { operandLayout, planGemm } from './gemm-plan.js';
export { LIBRARY_NAMES, usualLibraryDirs } from './libraries.js';
export { cudaRoutines } from './routines.js';

export interface CreateCudaBackendOptions {
  /** Name the backend reports (default 'cuda'). */
  name?: string;
  /** GPU ordinal (default: LRW_CUDA_DEVICE, else 0). */
  device?: number;
  /** TF32 tensor-core matmuls instead of fp32 (default false: fp32, as the CPU). */
  tf32?: boolean;
  /** Register the fused routines (default true); false keeps every composite op composed. */
  fusedRoutines?: boolean;
  /** Most bytes of freed device memory kept for reuse (default: all; freed on out-of-memory). */
  maxPooledBytes?: number;
  /** Directories searched for the libraries before the usual places (after LRW_CUDA_LIB_DIR). */
  libDirs?: readonly string[];
  /** Whether the dynamic linker's path and the usual install locations are searched (default true). */
  systemSearch?: boolean;
  /** 'auto' (default): the ahead-of-time image when built, else NVRTC; 'nvrtc': always NVRTC. */
  kernels?: 'auto' | 'nvrtc';
  /** Directory of the built kernel image (default: the package's dist/cuda-kernels). */
  kernelDir?: string;
  /** The FFI module to import (default 'koffi'; tests pass a missing one). */
  ffiModule?: string;
}

/**
 * Loads the driver, picks the GPU, loads the kernels and cuBLAS, and returns a ready backend.
 * Throws a CudaUnavailableError naming what is missing (the FFI package, the driver, a GPU,
 * cuBLAS, NVRTC) and how to fix it.
 */
export async function createCudaBackend(
  options: CreateCudaBackendOptions = {},
): Promise<CudaBackend> {
  const koffi = await importKoffi(options.ffiModule);
  const search = librarySearch(options);
  const lib = loadLibrary(koffi, 'driver', LIBRARY_NAMES.driver, search, DRIVER_FIX);
  const driver = new Driver(koffi, lib.lib, lib.path || lib.name);
  const code = driver.raw.cuInit(0) as number;
  if (code !== 0) throw initFailure(driver, code);
  const count = driver.deviceCount();
  if (count === 0) throw initFailure(driver, 100);
  const ordinal = options.device ?? Number(process.env.LRW_CUDA_DEVICE ?? 0);
  if (!(Number.isInteger(ordinal) && ordinal >= 0 && ordinal < count)) {
    throw new CudaUnavailableError(
      'gpu',
      `GPU ${ordinal} does not exist (this machine has ${count})`,
      `pick a device from 0 to ${count - 1} (option device or LRW_CUDA_DEVICE)`,
    );
  }
  const dev = driver.device(ordinal);
  const cc =
    driver.attribute(dev, DEVICE_ATTRIBUTE.COMPUTE_CAPABILITY_MAJOR) * 10 +
    driver.attribute(dev, DEVICE_ATTRIBUTE.COMPUTE_CAPABILITY_MINOR);
  if (cc < 70) {
    throw new CudaUnavailableError(
      'gpu',
      `GPU ${ordinal} has compute capability ${cc / 10}; the kernels need 7.0 (Volta) or newer`,
      'use a newer GPU, or the cpu or webgpu backend',
    );
  }
  const device: CudaDevice = {
    ordinal,
    name: driver.deviceName(dev),
    computeCapability: cc,
    multiprocessors: driver.attribute(dev, DEVICE_ATTRIBUTE.MULTIPROCESSOR_COUNT),
    totalMemory: driver.totalMemory(dev),
    maxSharedOptin: driver.attribute(dev, DEVICE_ATTRIBUTE.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
  };
  const context = driver.primaryContext(dev);
  driver.setCurrent(context);
  const stream = driver.createStream();
  const dirs = kernelDirs(options.kernelDir);
  let image: KernelImage | undefined = options.kernels === 'nvrtc' ? undefined : builtImage(dirs);
  let module: NativePointer | undefined;
  if (image) {
    try {
      module = driver.loadModule(image.image);
    } catch (e) {
      // An image from a newer toolkit than this driver supports (e.g. CUDA 13's PTX on a CUDA 12
      // driver), or without code for this GPU: NVRTC of the installed CUDA compiles it instead.
      console.warn(
        `cuda backend: the ahead-of-time kernels (${image.path}) did not load (${(e as Error).message}); compiling them with NVRTC`,
      );
      image = undefined;
    }
  }
  if (!image || !module) {
    image = nvrtcImage(koffi, search, kernelSource(dirs), Math.min(cc, 90));
    module = driver.loadModule(image.image);
  }
  const cublas = new Cublas(koffi, search, stream);
  const backend = new CudaBackend({
    name: options.name ?? 'cuda',
    koffi,
    driver,
    device,
    context,
    stream,
    module,
    kernelNames: image.kernels,
    kernelOrigin: image.origin,
    cublas,
    maxPooledBytes: options.maxPooledBytes ?? Number.POSITIVE_INFINITY,
    tf32: options.tf32 ?? false,
  });
  backend.registerKernels(primitiveKernels);
  if (options.fusedRoutines !== false) {
    backend.registerRoutines(cudaRoutines);
  }
  return backend;
}
export { buildCudaEmulator, type CudaEmulator } from './emulator.js';

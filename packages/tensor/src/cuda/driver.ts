/**
 * The CUDA driver API (libcuda.so.1) through koffi: the functions the backend calls, with every
 * result checked (a failure throws a CudaError naming the call and the driver's own error name
 * and description). Handles (contexts, streams, modules, functions, events) are opaque native
 * pointers; device pointers are plain numbers (64-bit addresses below 2^53).
 */
import {
  CudaUnavailableError,
  type Koffi,
  type NativeFn,
  type NativeLibrary,
  type NativePointer,
} from './ffi.js';

/** CUresult values the backend treats specially. */
export const CU = {
  SUCCESS: 0,
  ERROR_OUT_OF_MEMORY: 2,
  ERROR_NOT_INITIALIZED: 3,
  ERROR_STUB_LIBRARY: 34,
  ERROR_INSUFFICIENT_DRIVER: 35,
  ERROR_NO_DEVICE: 100,
  ERROR_NOT_READY: 600,
} as const;

export const DEVICE_ATTRIBUTE = {
  MULTIPROCESSOR_COUNT: 16,
  COMPUTE_CAPABILITY_MAJOR: 75,
  COMPUTE_CAPABILITY_MINOR: 76,
  MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: 97,
} as const;

export const FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
export const STREAM_NON_BLOCKING = 1;
export const EVENT_DISABLE_TIMING = 2;

/** A failed driver call: `code` is the CUresult. */
export class CudaError extends Error {
  override readonly name = 'CudaError';
  constructor(
    readonly call: string,
    readonly code: number,
    description: string,
  ) {
    super(`${call} failed: ${description}`);
  }
}

const SIGNATURES = {
  cuInit: 'int cuInit(unsigned int flags)',
  cuDriverGetVersion: 'int cuDriverGetVersion(_Out_ int *version)',
  cuDeviceGetCount: 'int cuDeviceGetCount(_Out_ int *count)',
  cuDeviceGet: 'int cuDeviceGet(_Out_ int *device, int ordinal)',
  cuDeviceGetName: 'int cuDeviceGetName(void *name, int len, int dev)',
  cuDeviceGetAttribute: 'int cuDeviceGetAttribute(_Out_ int *value, int attrib, int dev)',
  cuDeviceTotalMem_v2: 'int cuDeviceTotalMem_v2(_Out_ uint64_t *bytes, int dev)',
  cuDevicePrimaryCtxRetain: 'int cuDevicePrimaryCtxRetain(_Out_ void **ctx, int dev)',
  cuDevicePrimaryCtxRelease_v2: 'int cuDevicePrimaryCtxRelease_v2(int dev)',
  cuCtxSetCurrent: 'int cuCtxSetCurrent(void *ctx)',
  cuCtxSynchronize: 'int cuCtxSynchronize()',
  cuStreamCreate: 'int cuStreamCreate(_Out_ void **stream, unsigned int flags)',
  cuStreamSynchronize: 'int cuStreamSynchronize(void *stream)',
  cuStreamDestroy_v2: 'int cuStreamDestroy_v2(void *stream)',
  cuMemAlloc_v2: 'int cuMemAlloc_v2(_Out_ uint64_t *dptr, size_t bytes)',
  cuMemFree_v2: 'int cuMemFree_v2(uint64_t dptr)',
  cuMemAllocHost_v2: 'int cuMemAllocHost_v2(_Out_ void **ptr, size_t bytes)',
  cuMemFreeHost: 'int cuMemFreeHost(void *ptr)',
  cuMemGetInfo_v2: 'int cuMemGetInfo_v2(_Out_ uint64_t *free, _Out_ uint64_t *total)',
  cuMemcpyHtoDAsync_v2:
    'int cuMemcpyHtoDAsync_v2(uint64_t dst, const void *src, size_t bytes, void *stream)',
  cuMemcpyDtoHAsync_v2:
    'int cuMemcpyDtoHAsync_v2(void *dst, uint64_t src, size_t bytes, void *stream)',
  cuMemcpyDtoDAsync_v2:
    'int cuMemcpyDtoDAsync_v2(uint64_t dst, uint64_t src, size_t bytes, void *stream)',
  cuMemsetD32Async:
    'int cuMemsetD32Async(uint64_t dst, unsigned int value, size_t count, void *stream)',
  cuModuleLoadData: 'int cuModuleLoadData(_Out_ void **module, const void *image)',
  cuModuleUnload: 'int cuModuleUnload(void *module)',
  cuModuleGetFunction: 'int cuModuleGetFunction(_Out_ void **fn, void *module, const char *name)',
  cuFuncSetAttribute: 'int cuFuncSetAttribute(void *fn, int attrib, int value)',
  cuLaunchKernel:
    'int cuLaunchKernel(void *fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz, unsigned int smem, void *stream, void *params, void *extra)',
  cuEventCreate: 'int cuEventCreate(_Out_ void **event, unsigned int flags)',
  cuEventRecord: 'int cuEventRecord(void *event, void *stream)',
  cuEventQuery: 'int cuEventQuery(void *event)',
  cuEventSynchronize: 'int cuEventSynchronize(void *event)',
  cuEventDestroy_v2: 'int cuEventDestroy_v2(void *event)',
  cuGetErrorName: 'int cuGetErrorName(int code, _Out_ const char **name)',
  cuGetErrorString: 'int cuGetErrorString(int code, _Out_ const char **text)',
} as const;

type Raw = Record<keyof typeof SIGNATURES, NativeFn>;

/** The driver API: thin checked wrappers over the raw functions. */
export class Driver {
  readonly raw: Raw;
  /** cuEventElapsedTime(_v2) (ms between two events), for benchmarks. */
  private readonly elapsed: NativeFn;
  /** The copies again, with host memory as an integer address (inside pinned allocations). */
  private readonly htodAddr: NativeFn;
  private readonly dtohAddr: NativeFn;
  private readonly i32 = [0];
  private readonly u64 = [0];
  private readonly ptr: [NativePointer | null] = [null];

  constructor(
    readonly koffi: Koffi,
    readonly lib: NativeLibrary,
    /** The library's path (for messages). */
    readonly path: string,
  ) {
    const raw: Partial<Raw> = {};
    for (const [name, sig] of Object.entries(SIGNATURES)) {
      try {
        raw[name as keyof Raw] = lib.func(sig);
      } catch (e) {
        throw new CudaUnavailableError(
          'driver',
          `${path} is not a usable CUDA driver library: symbol ${name} is missing (${(e as Error).message.split('\n')[0]})`,
          'install the NVIDIA driver (CUDA 11.4 or newer) and point LRW_CUDA_LIB_DIR at the directory of its libcuda.so.1 if another copy shadows it',
        );
      }
    }
    this.raw = raw as Raw;
    let elapsed: NativeFn;
    try {
      elapsed = lib.func('int cuEventElapsedTime_v2(_Out_ float *ms, void *start, void *end)');
    } catch {
      elapsed = lib.func('int cuEventElapsedTime(_Out_ float *ms, void *start, void *end)');
    }
    this.elapsed = elapsed;
    this.htodAddr = lib.func(
      'int cuMemcpyHtoDAsync_v2(uint64_t dst, uint64_t src, size_t bytes, void *stream)',
    );
    this.dtohAddr = lib.func(
      'int cuMemcpyDtoHAsync_v2(uint64_t dst, uint64_t src, size_t bytes, void *stream)',
    );
  }

  /** The driver's name and description of a CUresult. */
  describe(code: number): string {
    const out: [string | null] = [null];
    const name = this.raw.cuGetErrorName(code, out) === 0 ? out[0] : null;
    const text = this.raw.cuGetErrorString(code, out) === 0 ? out[0] : null;
    return `${name ?? `CUresult ${code}`}${text ? ` (${text})` : ''}`;
  }

  /** Throws a CudaError unless `code` is CUDA_SUCCESS. */
  check(code: unknown, call: string): void {
    if (code !== 0) throw new CudaError(call, code as number, this.describe(code as number));
  }

  private call(name: keyof Raw, ...args: unknown[]): void {
    this.check(this.raw[name](...args), name);
  }

  private outInt(name: keyof Raw, ...args: unknown[]): number {
    this.call(name, this.i32, ...args);
    return this.i32[0]!;
  }

  private outPtr(name: keyof Raw, ...args: unknown[]): NativePointer {
    this.ptr[0] = null;
    this.call(name, this.ptr, ...args);
    return this.ptr[0]!;
  }

  init(): void {
    this.call('cuInit', 0);
  }
  driverVersion(): number {
    return this.outInt('cuDriverGetVersion');
  }
  deviceCount(): number {
    return this.outInt('cuDeviceGetCount');
  }
  device(ordinal: number): number {
    return this.outInt('cuDeviceGet', ordinal);
  }
  deviceName(dev: number): string {
    const buf = new Uint8Array(256);
    this.call('cuDeviceGetName', buf, 256, dev);
    const end = buf.indexOf(0);
    return new TextDecoder().decode(buf.subarray(0, end < 0 ? 256 : end));
  }
  attribute(dev: number, attrib: number): number {
    return this.outInt('cuDeviceGetAttribute', attrib, dev);
  }
  totalMemory(dev: number): number {
    this.call('cuDeviceTotalMem_v2', this.u64, dev);
    return Number(this.u64[0]);
  }
  memInfo(): { free: number; total: number } {
    const free = [0];
    const total = [0];
    this.call('cuMemGetInfo_v2', free, total);
    return { free: Number(free[0]), total: Number(total[0]) };
  }
  primaryContext(dev: number): NativePointer {
    return this.outPtr('cuDevicePrimaryCtxRetain', dev);
  }
  releasePrimaryContext(dev: number): void {
    this.call('cuDevicePrimaryCtxRelease_v2', dev);
  }
  setCurrent(ctx: NativePointer): void {
    this.call('cuCtxSetCurrent', ctx);
  }
  synchronize(): void {
    this.call('cuCtxSynchronize');
  }
  createStream(flags = STREAM_NON_BLOCKING): NativePointer {
    return this.outPtr('cuStreamCreate', flags);
  }
  streamSynchronize(stream: NativePointer): void {
    this.call('cuStreamSynchronize', stream);
  }
  destroyStream(stream: NativePointer): void {
    this.call('cuStreamDestroy_v2', stream);
  }
  /** cuMemAlloc; returns the CUresult instead of throwing on CUDA_ERROR_OUT_OF_MEMORY. */
  tryAlloc(bytes: number): { ptr: number; code: number } {
    this.u64[0] = 0;
    const code = this.raw.cuMemAlloc_v2(this.u64, bytes) as number;
    if (code !== 0 && code !== CU.ERROR_OUT_OF_MEMORY) this.check(code, 'cuMemAlloc_v2');
    return { ptr: Number(this.u64[0]), code };
  }
  free(ptr: number): void {
    this.call('cuMemFree_v2', ptr);
  }
  allocHost(bytes: number): NativePointer {
    return this.outPtr('cuMemAllocHost_v2', bytes);
  }
  freeHost(ptr: NativePointer): void {
    this.call('cuMemFreeHost', ptr);
  }
  copyHtoD(
    dst: number,
    src: ArrayBufferView | NativePointer,
    bytes: number,
    stream: NativePointer,
  ): void {
    this.call('cuMemcpyHtoDAsync_v2', dst, src, bytes, stream);
  }
  copyDtoH(
    dst: ArrayBufferView | NativePointer,
    src: number,
    bytes: number,
    stream: NativePointer,
  ): void {
    this.call('cuMemcpyDtoHAsync_v2', dst, src, bytes, stream);
  }
  /** Host-to-device from a host address (pinned memory). */
  copyHtoDFrom(dst: number, hostAddress: number, bytes: number, stream: NativePointer): void {
    this.check(this.htodAddr(dst, hostAddress, bytes, stream), 'cuMemcpyHtoDAsync_v2');
  }
  /** Device-to-host into a host address (pinned memory). */
  copyDtoHInto(hostAddress: number, src: number, bytes: number, stream: NativePointer): void {
    this.check(this.dtohAddr(hostAddress, src, bytes, stream), 'cuMemcpyDtoHAsync_v2');
  }
  copyDtoD(dst: number, src: number, bytes: number, stream: NativePointer): void {
    this.call('cuMemcpyDtoDAsync_v2', dst, src, bytes, stream);
  }
  memsetD32(dst: number, value: number, count: number, stream: NativePointer): void {
    this.call('cuMemsetD32Async', dst, value >>> 0, count, stream);
  }
  loadModule(image: Uint8Array): NativePointer {
    return this.outPtr('cuModuleLoadData', image);
  }
  unloadModule(mod: NativePointer): void {
    this.call('cuModuleUnload', mod);
  }
  getFunction(mod: NativePointer, name: string): NativePointer {
    return this.outPtr('cuModuleGetFunction', mod, name);
  }
  setMaxDynamicShared(fn: NativePointer, bytes: number): void {
    this.call('cuFuncSetAttribute', fn, FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
  }
  launch(
    fn: NativePointer,
    grid: readonly [number, number, number],
    block: readonly [number, number, number],
    smem: number,
    stream: NativePointer,
    extra: NativePointer,
    name: string,
  ): void {
    const code = this.raw.cuLaunchKernel(
      fn,
      grid[0],
      grid[1],
      grid[2],
      block[0],
      block[1],
      block[2],
      smem,
      stream,
      null,
      extra,
    );
    if (code !== 0) this.check(code, `cuLaunchKernel(${name})`);
  }
  createEvent(flags = EVENT_DISABLE_TIMING): NativePointer {
    return this.outPtr('cuEventCreate', flags);
  }
  record(event: NativePointer, stream: NativePointer): void {
    this.call('cuEventRecord', event, stream);
  }
  /** True when the event has completed (CUDA_ERROR_NOT_READY: false). */
  query(event: NativePointer): boolean {
    const code = this.raw.cuEventQuery(event) as number;
    if (code === CU.ERROR_NOT_READY) return false;
    this.check(code, 'cuEventQuery');
    return true;
  }
  eventSynchronize(event: NativePointer): void {
    this.call('cuEventSynchronize', event);
  }
  destroyEvent(event: NativePointer): void {
    this.call('cuEventDestroy_v2', event);
  }
  elapsedMs(start: NativePointer, end: NativePointer): number {
    const ms = [0];
    this.check(this.elapsed(ms, start, end), 'cuEventElapsedTime');
    return ms[0]!;
  }
}

/** The message of cuInit's failure, with what to do about it. */
export function initFailure(driver: Driver, code: number): CudaUnavailableError {
  const desc = driver.describe(code);
  if (code === CU.ERROR_NO_DEVICE) {
    return new CudaUnavailableError(
      'gpu',
      `no CUDA GPU found (cuInit: ${desc})`,
      'run on a machine with an NVIDIA GPU, check that nvidia-smi lists it and that CUDA_VISIBLE_DEVICES does not hide it, or use the cpu or webgpu backend',
    );
  }
  if (code === CU.ERROR_STUB_LIBRARY) {
    return new CudaUnavailableError(
      'driver',
      `${driver.path || 'libcuda.so.1'} is the CUDA toolkit's stub library, not the driver (cuInit: ${desc})`,
      "install the NVIDIA driver, and remove the toolkit's lib64/stubs directory from LD_LIBRARY_PATH / LRW_CUDA_LIB_DIR",
    );
  }
  if (code === CU.ERROR_INSUFFICIENT_DRIVER) {
    return new CudaUnavailableError(
      'driver',
      `the NVIDIA driver is too old for this CUDA installation (cuInit: ${desc})`,
      'update the NVIDIA driver',
    );
  }
  return new CudaUnavailableError(
    'driver',
    `cuInit failed: ${desc}`,
    'check the NVIDIA driver installation (nvidia-smi should list the GPU); as root, /dev/nvidia* must exist and be readable',
  );
}

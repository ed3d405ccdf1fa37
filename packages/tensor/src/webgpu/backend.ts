/**
 * The WebGPU backend: storage buffers pooled by size class, kernels as WGSL compute shaders
 * (generated per kernel, dtype and rank, compiled once), many dispatches per command encoder,
 * async readback through mapped staging buffers. Kernels run in enqueue order on the device's
 * queue, so a freed buffer can go straight back to the pool: later users are ordered after it.
 */
import type {
  BackendMemory,
  Buf,
  KernelCall,
  KernelFn,
  KernelName,
  TensorView,
} from '../backend.js';
import { BufferPool } from '../buffer-pool.js';
import type { DType } from '../dtype.js';
import { KernelBackend } from '../kernel-backend.js';
import type {
  GpuAdapter,
  GpuBindGroupLayout,
  GpuBuffer,
  GpuCommandEncoder,
  GpuComputePass,
  GpuComputePipeline,
  GpuDevice,
  GpuLimits,
} from './gpu-types.js';
import { BufferUsage, MapMode } from './gpu-types.js';
import { primitiveKernels } from './kernels.js';

/** A buffer handle; a fresh handle per allocation so a stale one is detected as freed. */
export interface WebGpuBuf extends Buf {
  readonly gpu: GpuBuffer;
  /** Size class (bytes of `gpu`). */
  readonly capacity: number;
  freed: boolean;
}

/** One operand binding of a launch. */
export interface LaunchBuffer {
  buf: GpuBuffer;
  write: boolean;
  vec4?: boolean;
}

/** One compute dispatch. */
export interface Launch {
  /** Pipeline cache key (the generated WGSL is a function of it). */
  key: string;
  code: () => string;
  /** Bindings 1..n in order (binding 0 is the parameter block). */
  buffers: readonly LaunchBuffer[];
  /** Parameter words (i32; floats bit-cast by the caller). */
  params: ArrayLike<number>;
  /** Workgroups in x, y, z. */
  grid: readonly [number, number, number];
}

/**
 * A kernel implementation for kernel `K`: turns a call (attrs typed by `K`) into launches through
 * the backend's helpers.
 */
export type WebGpuKernel<K extends KernelName = KernelName> = KernelFn<WebGpuBackend, K>;

/** Device-side error codes written by kernels that validate indices (read back lazily). */
export const ERROR_CODES: Record<number, string> = {
  1: 'gather: an index is outside the table rows',
  2: 'scatterAdd: an index is outside the target rows',
  3: 'crossEntropy: a target is outside the vocabulary (use ignoreIndex for tokens without a target)',
};

export interface WebGpuBackendOptions {
  /** Name the backend reports (default 'webgpu'). */
  name?: string;
  /** Most bytes kept in the free pool (default 512 MiB); beyond it freed buffers are destroyed. */
  maxPooledBytes?: number;
  /** Dispatches per command buffer before it is submitted (default 64). */
  maxDispatchesPerSubmit?: number;
  /**
   * Invocations per row (a power of two up to 256) for row kernels over rows of 1024 elements or
   * more: reductions, softmax, cross-entropy, normalization (a workgroup per row, tree reduction
   * in workgroup memory); 1 = one invocation per row. `createWebGpuBackend` picks 256 on core
   * adapters and 1 in compatibility mode: Mesa's llvmpipe behind the OpenGL ES route miscompiles
   * a value kept across several workgroup barriers (the layerNorm routine read a stale mean in
   * all but the first 8 lanes; SwiftShader's Vulkan computes it right). Default here: 1.
   */
  rowLanes?: number;
  /**
   * Lower some device limits (tests use it to exercise dispatch splitting and limit errors on
   * small tensors); values above the device's own limits are ignored.
   */
  limitOverrides?: Partial<
    Pick<GpuLimits, 'maxComputeWorkgroupsPerDimension' | 'maxStorageBufferBindingSize'>
  >;
}

const PARAM_WORDS = 1 << 16;
/** Bytes of the upload arena: writes up to UPLOAD_INLINE bytes are staged there and copied in order. */
const UPLOAD_BYTES = 1 << 20;
const UPLOAD_INLINE = 1 << 16;

/** Pool size classes: powers of two up to 256 bytes, then four steps per power of two (<= 25% slack). */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 256) return 2 ** Math.ceil(Math.log2(b));
  const step = 2 ** Math.floor(Math.log2(b)) / 4;
  return Math.ceil(b / step) * step;
}

const MIB = 1024 * 1024;
/** LRW_WEBGPU_DUMP=1 prints every generated shader (debugging). */
const dumpShaders = !!(globalThis as { process?: { env: Record<string, string | undefined> } })
  .process?.env?.LRW_WEBGPU_DUMP;
const fmtBytes = (b: number) =>
  b >= MIB ? `${(b / MIB).toFixed(b % MIB ? 1 : 0)} MiB` : `${b} bytes`;

export class WebGpuBackend extends KernelBackend<WebGpuBackend> {
  readonly name: string;
  readonly limits: GpuLimits;
  private readonly pipelines = new Map<
    string,
    { pipeline: GpuComputePipeline; layout: GpuBindGroupLayout }
  >();
  private readonly pool: BufferPool<GpuBuffer>;
  private readonly stagingPool = new Map<number, GpuBuffer[]>();
  private readonly maxDispatches: number;
  private encoder: GpuCommandEncoder | null = null;
  private pass: GpuComputePass | null = null;
  private dispatches = 0;
  private readonly params: Int32Array;
  private paramPos = 0;
  private readonly paramBuffer: GpuBuffer;
  private readonly upload = new Uint8Array(UPLOAD_BYTES);
  private uploadPos = 0;
  private readonly uploadBuffer: GpuBuffer;
  private readonly paramAlign: number;
  /** Words 0..3: error code, offending value, position (see ERROR_CODES). */
  readonly errorBuffer: GpuBuffer;
  private deviceError: string | null = null;
  private lostReason: string | null = null;
  /** See `WebGpuBackendOptions.rowLanes`. */
  readonly rowLanes: number;
  /** Launches so far (for tests and benchmarks). */
  launches = 0;

  constructor(
    readonly device: GpuDevice,
    readonly adapter: GpuAdapter,
    /** How the adapter was found (e.g. `create(["backend=opengles"]) + compatibility`). */
    readonly route: string,
    /** The object from Dawn's `create()`, kept reachable for the device's lifetime. */
    private readonly keepAlive: unknown,
    options: WebGpuBackendOptions = {},
  ) {
    super();
    this.name = options.name ?? 'webgpu';
    const lowered: Record<string, number> = {};
    for (const [k, v] of Object.entries(options.limitOverrides ?? {})) {
      const own = device.limits[k];
      if (typeof v === 'number' && typeof own === 'number') lowered[k] = Math.min(v, own);
    }
    this.limits = new Proxy(device.limits, {
      get: (target, key) =>
        typeof key === 'string' && key in lowered ? lowered[key] : Reflect.get(target, key),
    });
    this.pool = new BufferPool(options.maxPooledBytes ?? 512 * MIB);
    this.maxDispatches = options.maxDispatchesPerSubmit ?? 64;
    const lanes = options.rowLanes ?? 1;
    if (!(Number.isInteger(Math.log2(lanes)) && lanes >= 1 && lanes <= 256)) {
      throw new RangeError(`rowLanes = ${lanes} must be a power of two from 1 to 256`);
    }
    this.rowLanes = lanes;
    this.paramAlign = Math.max(4, this.limits.minStorageBufferOffsetAlignment) / 4;
    this.params = new Int32Array(PARAM_WORDS);
    this.paramBuffer = device.createBuffer({
      size: PARAM_WORDS * 4,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
      label: 'lrw-params',
    });
    this.uploadBuffer = device.createBuffer({
      size: UPLOAD_BYTES,
      usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      label: 'lrw-upload',
    });
    this.errorBuffer = device.createBuffer({
      size: 16,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
      label: 'lrw-errors',
    });
    device.queue.writeBuffer(this.errorBuffer, 0, new Uint32Array(4));
    device.addEventListener?.('uncapturederror', (e) => {
      // Follow-up errors of an object made invalid by an earlier one add nothing.
      if (!e.error.message.includes('is invalid due to a previous error')) {
        this.deviceError ??= e.error.message;
      }
    });
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
    this.registerKernels(primitiveKernels);
  }

  /** Adapter description (vendor, architecture, description), for logs and benchmarks. */
  get adapterInfo(): string {
    const i = this.adapter.info;
    return [i?.vendor, i?.architecture, i?.device, i?.description].filter(Boolean).join(' ');
  }

  /** The object returned by Dawn's `create()` (kept so it is never collected under the device). */
  get dawnInstance(): unknown {
    return this.keepAlive;
  }

  // ---- buffers ------------------------------------------------------------------------------

  alloc(bytes: number): Buf {
    this.checkAlive('alloc');
    const maxBinding = this.limits.maxStorageBufferBindingSize;
    if (bytes > maxBinding || bytes > this.limits.maxBufferSize) {
      const which = bytes > maxBinding ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
      const limit = Math.min(maxBinding, this.limits.maxBufferSize);
      throw new RangeError(
        `${this.name}.alloc: ${fmtBytes(bytes)} exceed the device's ${which} (${fmtBytes(limit)}); ` +
          'use smaller tensors (a smaller batch, or chunk the computation), or an adapter with a larger limit ' +
          '(the OpenGL ES route allows 128 MiB, SwiftShader Vulkan 1 GiB, discrete GPUs 2 GiB or more)',
      );
    }
    const cls = Math.min(sizeClass(bytes), Math.max(16, Math.floor(maxBinding / 16) * 16));
    const gpu = this.pool.acquire(cls, () =>
      this.device.createBuffer({
        size: cls,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      }),
    );
    const buf: WebGpuBuf = {
      byteLength: Math.ceil(bytes / 4) * 4,
      gpu,
      capacity: cls,
      freed: false,
    };
    return buf;
  }

  free(buf: Buf): void {
    const b = this.own(buf, 'free');
    b.freed = true;
    if (!this.pool.release(b.gpu, b.capacity)) {
      // Destroying waits for queued work that uses it (WebGPU semantics): flush first.
      this.flush();
      b.gpu.destroy();
    }
  }

  write(buf: Buf, src: ArrayBufferView, byteOffset = 0): void {
    const b = this.own(buf, 'write');
    if (byteOffset + src.byteLength > b.capacity) {
      throw new RangeError(
        `${this.name}.write: ${src.byteLength} bytes at offset ${byteOffset} overflow a ${b.byteLength}-byte buffer`,
      );
    }
    if (byteOffset % 4 !== 0) {
      throw new RangeError(
        `${this.name}.write: byte offset ${byteOffset} must be a multiple of 4 (WebGPU writeBuffer alignment)`,
      );
    }
    let bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    if (bytes.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      bytes = padded;
    }
    if (bytes.byteLength === 0) return;
    if (bytes.byteLength <= UPLOAD_INLINE) {
      // Small writes (scalars, indices, a batch) join the open command encoder as a copy from
      // the upload arena, so they stay in order with the kernels around them without a submit.
      if (this.uploadPos + bytes.byteLength > UPLOAD_BYTES) this.flush();
      this.upload.set(bytes, this.uploadPos);
      this.encoder ??= this.device.createCommandEncoder();
      this.pass?.end();
      this.pass = null;
      this.encoder.copyBufferToBuffer(
        this.uploadBuffer,
        this.uploadPos,
        b.gpu,
        byteOffset,
        bytes.byteLength,
      );
      this.uploadPos += bytes.byteLength;
      if (++this.dispatches >= this.maxDispatches) this.flush();
      return;
    }
    // Queue writes run before commands still being encoded: submit those first.
    this.flush();
    this.device.queue.writeBuffer(b.gpu, byteOffset, bytes);
  }

  async read(buf: Buf, byteOffset = 0, byteLength?: number): Promise<ArrayBuffer> {
    const b = this.own(buf, 'read');
    const len = byteLength ?? b.byteLength - byteOffset;
    const start = byteOffset & ~3;
    const end = Math.ceil((byteOffset + len) / 4) * 4;
    const span = Math.max(end - start, 0);
    this.flush();
    const cls = sizeClass(span + 16);
    const staging =
      this.stagingPool.get(cls)?.pop() ??
      this.device.createBuffer({
        size: cls,
        usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
        label: 'lrw-staging',
      });
    const enc = this.device.createCommandEncoder();
    if (span > 0) enc.copyBufferToBuffer(b.gpu, start, staging, 0, span);
    enc.copyBufferToBuffer(this.errorBuffer, 0, staging, cls - 16, 16);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(MapMode.READ);
    const mapped = staging.getMappedRange();
    const out = mapped.slice(byteOffset - start, byteOffset - start + len);
    const err = new Int32Array(mapped.slice(cls - 16, cls));
    staging.unmap();
    let list = this.stagingPool.get(cls);
    if (!list) this.stagingPool.set(cls, (list = []));
    list.push(staging);
    this.checkErrors(err);
    return out;
  }

  private checkErrors(err: Int32Array): void {
    this.checkAlive('read');
    if (err[0] !== 0) {
      this.device.queue.writeBuffer(this.errorBuffer, 0, new Uint32Array(4));
      const what = ERROR_CODES[err[0]] ?? `kernel error code ${err[0]}`;
      throw new RangeError(
        `${this.name}: ${what} (value ${err[1]} at position ${err[2]}), detected on the device by a kernel ` +
          'enqueued before this read; the result of that kernel is unspecified. Check indices and targets first',
      );
    }
  }

  protected acceptsDType(_kernel: KernelName, dtype: DType): boolean {
    return dtype === 'float32' || dtype === 'int32';
  }

  protected unsupportedHint(missing: boolean): string {
    return missing
      ? 'no WGSL kernel registered'
      : 'the WebGPU backend computes and stores float32 and int32 (WGSL without shader-f16); cast half-precision tensors to float32 on the cpu backend first';
  }

  override run<K extends KernelName>(call: KernelCall<K>): void {
    this.checkAlive(call.kernel);
    super.run(call);
  }

  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkAlive('sync');
  }

  memory(): BackendMemory {
    return this.pool.memory();
  }

  emptyPool(): void {
    this.flush();
    this.pool.clear((b) => b.destroy());
    for (const list of this.stagingPool.values()) for (const b of list) b.destroy();
    this.stagingPool.clear();
  }

  /** Releases every buffer and the device. The backend is unusable afterwards. */
  destroy(): void {
    this.emptyPool();
    this.device.destroy();
    this.lostReason ??= 'destroyed';
  }

  // ---- launching ----------------------------------------------------------------------------

  /** The GPU buffer behind a view (checking it belongs here and is alive). */
  gpuOf(view: TensorView | Buf, where = 'kernel'): GpuBuffer {
    const buf = 'buf' in view ? view.buf : view;
    return this.own(buf, where).gpu;
  }

  /**
   * Workgroup grid for `items` work items, `perGroup` per workgroup, spread over x and y when
   * more than maxComputeWorkgroupsPerDimension workgroups are needed. Returns the grid and the
   * grid's width in items (parameter word 0 of every kernel).
   */
  grid(
    items: number,
    perGroup: number,
    where: string,
  ): { grid: [number, number, number]; width: number } {
    const groups = Math.max(1, Math.ceil(items / perGroup));
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, maxDim);
    const y = Math.ceil(groups / x);
    if (y > maxDim) {
      throw new RangeError(
        `${where}: ${items} work items need ${groups} workgroups, more than maxComputeWorkgroupsPerDimension^2 ` +
          `(${maxDim}^2); split the tensor into smaller pieces`,
      );
    }
    return { grid: [x, y, 1], width: x * perGroup };
  }

  /** Invocations per workgroup of 1-D kernels (256 when the device allows, else 128 or 64). */
  get workgroupSize(): number {
    const L = this.limits;
    return Math.min(256, L.maxComputeInvocationsPerWorkgroup, L.maxComputeWorkgroupSizeX);
  }

  private pipeline(
    key: string,
    code: () => string,
  ): { pipeline: GpuComputePipeline; layout: GpuBindGroupLayout } {
    let p = this.pipelines.get(key);
    if (!p) {
      const source = code();
      if (dumpShaders) console.log(`// ---- ${key}\n${source}`);
      const module = this.device.createShaderModule({ code: source, label: key });
      const pipeline = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
        label: key,
      });
      p = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Enqueues one dispatch (batched into the open command encoder). */
  launch(l: Launch): void {
    const [gx, gy, gz] = l.grid;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const maxBuffers = this.limits.maxStorageBuffersPerShaderStage;
    if (l.buffers.length + 1 > maxBuffers) {
      throw new RangeError(
        `${l.key}: needs ${l.buffers.length + 1} storage buffers, the device's maxStorageBuffersPerShaderStage is ${maxBuffers}`,
      );
    }
    const { pipeline, layout } = this.pipeline(l.key, l.code);
    const n = l.params.length;
    let pos = Math.ceil(this.paramPos / this.paramAlign) * this.paramAlign;
    if (pos + n > PARAM_WORDS) {
      this.flush();
      pos = 0;
    }
    for (let i = 0; i < n; i++) this.params[pos + i] = l.params[i];
    this.paramPos = pos + Math.max(n, 1);
    const entries = [
      {
        binding: 0,
        resource: { buffer: this.paramBuffer, offset: pos * 4, size: Math.max(n, 1) * 4 },
      },
      ...l.buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buf } })),
    ];
    const group = this.device.createBindGroup({ layout, entries });
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(gx, gy, gz);
    this.launches++;
    if (++this.dispatches >= this.maxDispatches) this.flush();
  }

  /** Submits the open command encoder (with the parameter words it uses). */
  flush(): void {
    if (!this.encoder) return;
    this.pass?.end();
    if (this.paramPos > 0) {
      this.device.queue.writeBuffer(this.paramBuffer, 0, this.params.subarray(0, this.paramPos));
    }
    if (this.uploadPos > 0) {
      this.device.queue.writeBuffer(this.uploadBuffer, 0, this.upload.subarray(0, this.uploadPos));
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pass = null;
    this.paramPos = 0;
    this.uploadPos = 0;
    this.dispatches = 0;
  }

  private checkAlive(where: string): void {
    if (this.lostReason) {
      throw new Error(`${this.name}.${where}: the WebGPU device is lost (${this.lostReason})`);
    }
    if (this.deviceError) {
      const msg = this.deviceError;
      this.deviceError = null;
      throw new Error(`${this.name}: WebGPU reported an error: ${msg}`);
    }
  }

  private own(buf: Buf, where: string): WebGpuBuf {
    const b = buf as WebGpuBuf;
    if (!b.gpu)
      throw new TypeError(`${this.name}.${where}: buffer does not belong to a WebGPU backend`);
    if (b.freed) throw new Error(`${this.name}.${where}: buffer was already freed`);
    return b;
  }
}

/**
 * The gpu.js backend: tensors live in float textures (RGBA32F, four elements per texel: gpu.js's
 * "memory-optimized" layout) and every kernel is a gpu.js kernel in pipeline mode, so results
 * stay on the GPU between ops; only `read` copies to the host. A kernel renders a whole texture,
 * so each launch writes a fresh pooled texture and the buffer handle moves to it (the old one
 * goes back to the pool; WebGL orders the draws, so it is safe to reuse at once).
 *
 * gpu.js owns the shader translation, uniforms and draws. The backend owns the textures: it
 * creates them with WebGL, wraps them in gpu.js's own texture class, and hands the target to a
 * kernel before each call (the kernel object's `texture` field, which gpu.js binds to its
 * framebuffer when `_textureSwitched` is set). That one reach into gpu.js is what makes the
 * textures poolable and `memory()` exact; the tests check that results land in the given texture.
 */
import type {
  BackendMemory,
  Buf,
  KernelCall,
  KernelFn,
  KernelName,
  TensorView,
} from '../backend.js';
import type { DType } from '../dtype.js';
import { KernelBackend, type KernelTable } from '../kernel-backend.js';
import type {
  Gl2Context,
  GlContext,
  GpuJsInstance,
  GpuJsKernel,
  GpuJsModule,
  GpuJsTexture,
} from './gpujs-types.js';

/** Indices in gpu.js kernels are float arithmetic: exact up to 2^24. */
export const MAX_ELEMENTS = 2 ** 24;
const INT_LIMIT = 2 ** 24;
const MIB = 1024 * 1024;

/** One pooled texture: `cap` elements in a `w` x `h` RGBA32F texture. */
export interface PooledTexture {
  readonly cap: number;
  readonly w: number;
  readonly h: number;
  /** gpu.js's texture object around the GL texture. */
  readonly tex: GpuJsTexture;
}

/** A buffer: a handle that moves to a new texture whenever a kernel writes it. */
export interface GpuJsBuf extends Buf {
  tex: PooledTexture;
  /** Elements of storage (byteLength / 4, rounded up). */
  readonly elements: number;
  freed: boolean;
  /**
   * What the texture's values are: textures hold numbers, so int32 data is stored as float
   * values (exact up to 2^24) and converted back on read. Set by typed writes and by kernels.
   */
  dtype?: 'float32' | 'int32';
  /**
   * Raw bytes written before the dtype was known (a copy between backends writes bytes): kept
   * on the host until a kernel reads the buffer as a dtype, or returned as they are by `read`.
   */
  pending?: Uint8Array;
}

/** A kernel implementation: turns a call into launches through the backend's helpers. */
/** A kernel for kernel `K` (attrs typed by `K`): draws into the output's texture. */
export type GpuJsKernelFn<K extends KernelName = KernelName> = KernelFn<GpuJsBackend, K>;

export interface GpuJsBackendOptions {
  /** Name the backend reports (default 'gpujs'). */
  name?: string;
  /** Most bytes kept in the free pool (default 512 MiB); beyond it freed textures are deleted. */
  maxPooledBytes?: number;
  /** Lower the maximum texture size (tests use it to exercise the limit error). */
  maxTextureSize?: number;
}

/** Pool size classes in elements: multiples of 4 up to 64, then four steps per power of two. */
export function capacityClass(elements: number): number {
  const n = Math.max(4, Math.ceil(elements / 4) * 4);
  if (n <= 64) return n;
  const step = 2 ** Math.floor(Math.log2(n)) / 4;
  return Math.ceil(n / step) * step;
}

/** gpu.js's texture size for a 1-D memory-optimized output of `cap` elements. */
export function textureSize(cap: number): [number, number] {
  const texels = Math.ceil(cap / 4);
  const sqrt = Math.sqrt(texels);
  let high = Math.ceil(sqrt);
  let low = Math.floor(sqrt);
  while (high * low < texels) {
    high--;
    low = Math.ceil(texels / high);
  }
  return [low, Math.ceil(texels / low)];
}

/** Settings every kernel shares (see the file comment). */
const KERNEL_SETTINGS = {
  pipeline: true,
  immutable: false,
  precision: 'single',
  optimizeFloatMemory: true,
  tactic: 'precision',
  dynamicArguments: true,
  dynamicOutput: false,
  strictIntegers: false,
  fixIntegerDivisionAccuracy: true,
  loopMaxIterations: MAX_ELEMENTS,
};

/** A compiled kernel's source and argument types (names in order). */
export interface KernelSpec {
  /** Cache key: the source is a function of it. */
  key: string;
  source: () => string;
  /** Argument names and types: 'Texture' (a buffer, indexed by element) or 'Float' (a scalar). */
  args: readonly (readonly [string, 'Texture' | 'Float'])[];
  /**
   * The kernel returns four consecutive elements per thread (`[a, b, c, d]`, gpu.js's
   * 'Array(4)' output: one RGBA texel, the same layout as the textures), thread t writing
   * elements 4t..4t+3.
   */
  vec4?: boolean;
}

export class GpuJsBackend extends KernelBackend<GpuJsBackend> {
  readonly name: string;
  readonly gl: GlContext;
  /** 2 on WebGL2 (browsers), 1 on WebGL1 (headless-gl in Node). */
  readonly webglVersion: 1 | 2;
  readonly maxTextureSize: number;
  private readonly compiled = new Map<string, GpuJsKernel>();
  private readonly freeTextures = new Map<number, PooledTexture[]>();
  private readonly maxPooledBytes: number;
  private live = 0;
  private liveBytes = 0;
  private pooled = 0;
  private pooledBytes = 0;
  private readonly framebuffer: unknown;
  private readonly TextureClass: new (
    s: Record<string, unknown>,
  ) => GpuJsTexture;
  private readonly anchor: GpuJsKernel;
  private destroyed = false;
  /** Kernel launches so far (tests and benchmarks). */
  launches = 0;
  /** GL textures created so far (the pool's misses). */
  texturesCreated = 0;
  /** Kernels compiled so far. */
  get compiledKernels(): number {
    return this.compiled.size;
  }

  constructor(
    readonly lib: GpuJsModule,
    readonly gpu: GpuJsInstance,
    kernels: KernelTable<GpuJsBackend>,
    options: GpuJsBackendOptions = {},
  ) {
    super();
    this.name = options.name ?? 'gpujs';
    this.maxPooledBytes = options.maxPooledBytes ?? 512 * MIB;
    // The anchor kernel creates gpu.js's shared context and tells us its texture class.
    this.anchor = gpu.createKernel('function () { return 0; }', {
      ...KERNEL_SETTINGS,
      output: [4],
    });
    this.anchor();
    const inner = this.anchor.kernel;
    const gl = inner.context ?? gpu.context;
    if (!gl || !inner.TextureConstructor) {
      throw new Error(`${this.name}: gpu.js created no WebGL context (mode '${gpu.mode}')`);
    }
    this.gl = gl;
    this.TextureClass = inner.TextureConstructor;
    this.webglVersion = String(gl.getParameter(gl.VERSION)).includes('WebGL 2') ? 2 : 1;
    const deviceMax = Number(gl.getParameter(gl.MAX_TEXTURE_SIZE));
    this.maxTextureSize = Math.min(deviceMax, options.maxTextureSize ?? deviceMax);
    this.framebuffer = gl.createFramebuffer();
    this.registerKernels(kernels);
    this.maxLoop = this.probeLoopBudget();
  }

  /**
   * Loop iterations a kernel may run per element. Mesa's llvmpipe (headless-gl's software
   * renderer) stops a shader invocation after 65535 loop iterations in all, and gpu.js runs four
   * elements per invocation, so there a loop may run 16383 times; longer loops would end early
   * and give wrong results silently. Measured once with a counting kernel, not guessed from the
   * renderer's name (which headless-gl reports as 'ANGLE').
   */
  readonly maxLoop: number;

  private probeLoopBudget(): number {
    const n = 20000;
    const t = this.acquireTexture(4);
    try {
      this.draw(
        {
          key: 'probe-loop',
          args: [['n', 'Float']],
          source: () =>
            'function (n) { let c = 0; for (let j = 0; j < n; j++) { c += 1; } return c; }',
        },
        t,
        [n],
      );
      const gl = this.gl;
      const px = new Float32Array(4);
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      gl.framebufferTexture2D(
        gl.FRAMEBUFFER,
        gl.COLOR_ATTACHMENT0,
        gl.TEXTURE_2D,
        t.tex.texture,
        0,
      );
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, px);
      return px.every((v) => v === n) ? Number.POSITIVE_INFINITY : 16383;
    } finally {
      this.releaseTexture(t);
    }
  }

  /** Throws when a kernel would loop `n` times per element past this renderer's budget. */
  checkLoop(n: number, where: string): void {
    if (n > this.maxLoop) {
      throw new RangeError(
        `${this.name}.${where}: a loop of ${n} iterations per element exceeds this renderer's budget of ${this.maxLoop} (Mesa llvmpipe ends a shader after 65535 loop iterations, four elements per invocation); use a smaller reduction or inner dimension, or a GPU, or the cpu backend`,
      );
    }
  }

  /** The WebGL renderer string (e.g. SwiftShader, a GPU's name), for logs and benchmarks. */
  get renderer(): string {
    const gl = this.gl;
    const dbg = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number };
    return String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  }

  // ---- textures and buffers -----------------------------------------------------------------

  private textureBytes(cap: number): number {
    const [w, h] = textureSize(cap);
    return w * h * 16;
  }

  /** A texture of `cap` elements from the pool, else a new one (counted live). */
  acquireTexture(cap: number): PooledTexture {
    let t = this.freeTextures.get(cap)?.pop();
    const bytes = this.textureBytes(cap);
    if (t) {
      this.pooled--;
      this.pooledBytes -= bytes;
    } else {
      t = this.createTexture(cap);
      this.texturesCreated++;
    }
    this.live++;
    this.liveBytes += bytes;
    return t;
  }

  /** Returns a live texture to the pool (or deletes it when the pool is full). */
  releaseTexture(t: PooledTexture): void {
    const bytes = this.textureBytes(t.cap);
    this.live--;
    this.liveBytes -= bytes;
    if (this.pooledBytes + bytes > this.maxPooledBytes) {
      this.gl.deleteTexture(t.tex.texture);
      return;
    }
    let list = this.freeTextures.get(t.cap);
    if (!list) this.freeTextures.set(t.cap, (list = []));
    list.push(t);
    this.pooled++;
    this.pooledBytes += bytes;
  }

  private createTexture(cap: number): PooledTexture {
    const [w, h] = textureSize(cap);
    const gl = this.gl;
    const texture = gl.createTexture();
    gl.activeTexture(gl.TEXTURE15);
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    const internal = this.webglVersion === 2 ? (gl as Gl2Context).RGBA32F : gl.RGBA;
    gl.texImage2D(gl.TEXTURE_2D, 0, internal, w, h, 0, gl.RGBA, gl.FLOAT, null);
    const tex = new this.TextureClass({
      texture,
      size: [w, h],
      dimensions: [cap, 1, 1],
      output: [cap],
      context: gl,
      kernel: this.anchor.kernel,
      internalFormat: internal,
      textureFormat: gl.RGBA,
      type: 'MemoryOptimizedNumberTexture',
    });
    return { cap, w, h, tex };
  }

  alloc(bytes: number): Buf {
    this.checkAlive('alloc');
    const elements = Math.ceil(bytes / 4);
    const cap = capacityClass(elements);
    const [w, h] = textureSize(cap);
    if (cap > MAX_ELEMENTS || w > this.maxTextureSize || h > this.maxTextureSize) {
      const why =
        cap > MAX_ELEMENTS
          ? `more than 2^24 = ${MAX_ELEMENTS} elements (gpu.js kernels index textures with float arithmetic, exact only up to 2^24)`
          : `a ${w} x ${h} texture, beyond this device's MAX_TEXTURE_SIZE ${this.maxTextureSize}`;
      throw new RangeError(
        `${this.name}.alloc: a tensor of ${elements} elements needs ${why}; ` +
          'use smaller tensors (a smaller batch or model, or chunk the computation), or the webgpu or cpu backend',
      );
    }
    const buf: GpuJsBuf = {
      byteLength: elements * 4,
      elements,
      tex: this.acquireTexture(cap),
      freed: false,
    };
    return buf;
  }

  free(buf: Buf): void {
    const b = this.own(buf, 'free');
    b.freed = true;
    this.releaseTexture(b.tex);
  }

  write(buf: Buf, src: ArrayBufferView, byteOffset = 0): void {
    const b = this.own(buf, 'write');
    if (byteOffset % 4 !== 0 || src.byteLength % 4 !== 0) {
      throw new RangeError(
        `${this.name}.write: offset ${byteOffset} and length ${src.byteLength} must be multiples of 4 bytes (float32/int32 elements)`,
      );
    }
    if (byteOffset + src.byteLength > b.byteLength) {
      throw new RangeError(
        `${this.name}.write: ${src.byteLength} bytes at offset ${byteOffset} overflow a ${b.byteLength}-byte buffer`,
      );
    }
    if (src.byteLength === 0) return;
    const typed =
      src instanceof Int32Array ? 'int32' : src instanceof Float32Array ? 'float32' : undefined;
    const dtype = typed ?? b.dtype;
    if (!dtype || b.pending) {
      // Bytes of an unknown dtype: keep them until a kernel says what they are.
      if (!b.pending) {
        b.pending = new Uint8Array(b.byteLength);
        if (b.dtype)
          throw new Error(`${this.name}.write: internal: pending bytes on a typed buffer`);
      }
      b.pending.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), byteOffset);
      if (typed) this.materialize(b, typed);
      return;
    }
    b.dtype = dtype;
    this.writeValues(b, toFloats(src, dtype, this.name), byteOffset / 4);
  }

  /** Stores `values` at element `start` of `b`'s texture. */
  private writeValues(b: GpuJsBuf, values: Float32Array, start: number): void {
    const n = values.length;
    if (start === 0 && n === b.elements) {
      this.upload(b.tex, values);
      return;
    }
    // A partial write: upload into a scratch texture, then merge it in with a kernel.
    const scratch = this.acquireTexture(capacityClass(n));
    try {
      this.upload(scratch, values);
      this.runInto(
        b,
        {
          key: 'write-range',
          source: () =>
            'function (prev, src, start, n) { const i = this.thread.x; if (i < start || i >= start + n) { return prev[i]; } return src[i - start]; }',
          args: [
            ['prev', 'Texture'],
            ['src', 'Texture'],
            ['start', 'Float'],
            ['n', 'Float'],
          ],
        },
        [b.tex.tex, scratch.tex, start, n],
      );
    } finally {
      this.releaseTexture(scratch);
    }
  }

  /** Uploads raw bytes kept by `write` as `dtype` values. */
  private materialize(b: GpuJsBuf, dtype: 'float32' | 'int32'): void {
    const bytes = b.pending;
    if (!bytes) return;
    b.pending = undefined;
    b.dtype = dtype;
    const raw = dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    this.writeValues(b, toFloats(raw, dtype, this.name), 0);
  }

  /** Uploads `values` (at most t.cap floats) to the start of texture `t`. */
  private upload(t: PooledTexture, values: Float32Array): void {
    const gl = this.gl;
    const texels = t.w * t.h;
    const rows = Math.min(t.h, Math.ceil(Math.ceil(values.length / 4) / t.w));
    let data = values;
    if (values.length !== rows * t.w * 4) {
      data = new Float32Array(rows * t.w * 4);
      data.set(values.subarray(0, Math.min(values.length, texels * 4)));
    }
    gl.activeTexture(gl.TEXTURE15);
    gl.bindTexture(gl.TEXTURE_2D, t.tex.texture);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, t.w, rows, gl.RGBA, gl.FLOAT, data);
  }

  async read(buf: Buf, byteOffset = 0, byteLength?: number): Promise<ArrayBuffer> {
    const b = this.own(buf, 'read');
    const len = byteLength ?? b.byteLength - byteOffset;
    if (len === 0) return new ArrayBuffer(0);
    if (b.pending) return b.pending.slice(byteOffset, byteOffset + len).buffer;
    const first = Math.floor(byteOffset / 4);
    const last = Math.ceil((byteOffset + len) / 4);
    const t = b.tex;
    const y0 = Math.floor(first / 4 / t.w);
    const y1 = Math.ceil(last / 4 / t.w);
    const pixels = await this.readRows(t, y0, y1 - y0);
    const base = y0 * t.w * 4;
    const floats = pixels.subarray(first - base, last - base);
    // int32 buffers hold exact integer values: convert them back to int32 bits.
    const words = b.dtype === 'int32' ? Int32Array.from(floats) : floats;
    const out = new Uint8Array(len);
    out.set(new Uint8Array(words.buffer, words.byteOffset + (byteOffset - first * 4), len));
    return out.buffer;
  }

  /** Rows [y0, y0 + rows) of texture `t` as floats (WebGL2: through a pixel-pack buffer and a fence). */
  private async readRows(t: PooledTexture, y0: number, rows: number): Promise<Float32Array> {
    const gl = this.gl;
    const out = new Float32Array(t.w * rows * 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, t.tex.texture, 0);
    if (this.webglVersion === 1) {
      gl.readPixels(0, y0, t.w, rows, gl.RGBA, gl.FLOAT, out);
      return out;
    }
    const g2 = gl as Gl2Context;
    const pbo = g2.createBuffer();
    g2.bindBuffer(g2.PIXEL_PACK_BUFFER, pbo);
    g2.bufferData(g2.PIXEL_PACK_BUFFER, out.byteLength, g2.STREAM_READ);
    g2.readPixels(0, y0, t.w, rows, gl.RGBA, gl.FLOAT, 0);
    g2.bindBuffer(g2.PIXEL_PACK_BUFFER, null);
    const sync = g2.fenceSync(g2.SYNC_GPU_COMMANDS_COMPLETE, 0);
    gl.flush();
    try {
      await waitForFence(g2, sync);
      g2.bindBuffer(g2.PIXEL_PACK_BUFFER, pbo);
      g2.getBufferSubData(g2.PIXEL_PACK_BUFFER, 0, out);
      g2.bindBuffer(g2.PIXEL_PACK_BUFFER, null);
    } finally {
      g2.deleteSync(sync);
      g2.deleteBuffer(pbo);
    }
    return out;
  }

  protected acceptsDType(_kernel: KernelName, dtype: DType): boolean {
    return dtype === 'float32' || dtype === 'int32';
  }

  protected unsupportedHint(missing: boolean): string {
    return missing
      ? 'no gpu.js kernel registered'
      : 'the gpujs backend stores float32 and int32 (WebGL float textures); cast half-precision tensors to float32 on the cpu backend first';
  }

  override run<K extends KernelName>(call: KernelCall<K>): void {
    this.checkAlive(call.kernel);
    super.run(call);
  }

  async sync(): Promise<void> {
    this.checkAlive('sync');
    if (this.webglVersion === 1) {
      this.gl.finish();
      return;
    }
    const g2 = this.gl as Gl2Context;
    const sync = g2.fenceSync(g2.SYNC_GPU_COMMANDS_COMPLETE, 0);
    g2.flush();
    try {
      await waitForFence(g2, sync);
    } finally {
      g2.deleteSync(sync);
    }
  }

  memory(): BackendMemory {
    return {
      buffers: this.live,
      bytes: this.liveBytes,
      pooledBuffers: this.pooled,
      pooledBytes: this.pooledBytes,
    };
  }

  emptyPool(): void {
    for (const list of this.freeTextures.values())
      for (const t of list) this.gl.deleteTexture(t.tex.texture);
    this.freeTextures.clear();
    this.pooled = 0;
    this.pooledBytes = 0;
  }

  /** Releases the pooled textures, the kernels and gpu.js's context. Unusable afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.emptyPool();
    for (const k of this.compiled.values()) k.destroy();
    this.compiled.clear();
    this.gl.deleteFramebuffer(this.framebuffer);
    void this.gpu.destroy();
    this.destroyed = true;
  }

  // ---- launching ----------------------------------------------------------------------------

  /** The texture behind an input view (checking it belongs here and is alive). */
  texOf(view: TensorView, where = 'kernel'): GpuJsTexture {
    const b = this.own(view.buf, where);
    if (b.pending) this.materialize(b, view.dtype === 'int32' ? 'int32' : 'float32');
    return b.tex.tex;
  }

  /** The buffer an output view writes (now holding `view.dtype` values). */
  outOf(view: TensorView, where = 'kernel'): GpuJsBuf {
    const b = this.own(view.buf, where);
    if (b.pending) this.materialize(b, view.dtype === 'int32' ? 'int32' : 'float32');
    b.dtype = view.dtype === 'int32' ? 'int32' : 'float32';
    return b;
  }

  /** The compiled kernel for `spec` writing `cap`-element textures (compiled once). */
  private compiledKernel(spec: KernelSpec, cap: number): GpuJsKernel {
    const key = `${spec.key}@${cap}`;
    let k = this.compiled.get(key);
    if (!k) {
      const argumentTypes: Record<string, string> = {};
      for (const [n, t] of spec.args) {
        argumentTypes[n] = t === 'Texture' ? 'MemoryOptimizedNumberTexture' : 'Float';
      }
      const shape = spec.vec4
        ? { output: [cap / 4], optimizeFloatMemory: false, returnType: 'Array(4)' }
        : { output: [cap] };
      k = this.gpu.createKernel(spec.source(), { ...KERNEL_SETTINGS, ...shape, argumentTypes });
      this.compiled.set(key, k);
    }
    return k;
  }

  /**
   * Runs `spec` over every element of a fresh texture the size of `out`'s, then moves `out` to
   * it (its old texture goes back to the pool after the draw is enqueued). `args` follow
   * `spec.args`: textures (`texOf(view)`) and numbers.
   */
  runInto(out: GpuJsBuf, spec: KernelSpec, args: readonly unknown[]): void {
    const target = this.acquireTexture(out.tex.cap);
    try {
      this.draw(spec, target, args);
    } catch (e) {
      this.releaseTexture(target);
      throw e;
    }
    const old = out.tex;
    out.tex = target;
    this.releaseTexture(old);
  }

  /** Renders `spec` into `target` (a texture no argument reads). */
  draw(spec: KernelSpec, target: PooledTexture, args: readonly unknown[]): void {
    const k = this.compiledKernel(spec, target.cap);
    const inner = k.kernel;
    inner.texture = target.tex;
    inner._textureSwitched = true;
    const rendered = k(...args);
    this.launches++;
    if (rendered !== target.tex) {
      // A gpu.js release that stops honouring the kernel's `texture` would land here.
      throw new Error(
        `${this.name}: gpu.js rendered kernel '${spec.key}' into a texture of its own, not the pooled target; this gpu.js version is not supported (tested: 2.24)`,
      );
    }
  }

  /** A scratch texture of at least `elements` elements (release it with releaseTexture). */
  scratch(elements: number): PooledTexture {
    return this.acquireTexture(capacityClass(elements));
  }

  private checkAlive(where: string): void {
    if (this.destroyed) throw new Error(`${this.name}.${where}: the backend was destroyed`);
  }

  private own(buf: Buf, where: string): GpuJsBuf {
    const b = buf as GpuJsBuf;
    if (!b.tex)
      throw new TypeError(`${this.name}.${where}: buffer does not belong to a gpujs backend`);
    if (b.freed) throw new Error(`${this.name}.${where}: buffer was already freed`);
    return b;
  }
}

/** The elements of `src` as float32 values (int32 checked against float's exact range). */
function toFloats(src: ArrayBufferView, dtype: 'float32' | 'int32', name: string): Float32Array {
  if (src instanceof Float32Array) return src;
  if (src instanceof Int32Array) {
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (v > INT_LIMIT || v < -INT_LIMIT) {
        throw new RangeError(
          `${name}.write: int32 value ${v} at element ${i} is outside +-2^24; the gpujs backend stores int32 in float textures, exact only up to 2^24 (use the cpu or webgpu backend for larger integers)`,
        );
      }
    }
    return Float32Array.from(src);
  }
  const words = new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice().buffer;
  return toFloats(dtype === 'int32' ? new Int32Array(words) : new Float32Array(words), dtype, name);
}

/** Resolves when `sync` has signalled, polling without blocking the thread. */
async function waitForFence(gl: Gl2Context, sync: unknown): Promise<void> {
  for (let delay = 0; ; delay = Math.min(4, delay + 1)) {
    const r = gl.clientWaitSync(sync, 0, 0);
    if (r === gl.WAIT_FAILED) throw new Error('gpujs: waiting for the GPU failed (clientWaitSync)');
    if (r !== gl.TIMEOUT_EXPIRED) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

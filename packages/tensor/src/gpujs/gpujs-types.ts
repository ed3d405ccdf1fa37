/**
 * The part of gpu.js (npm `gpu.js`, an optional dependency) that this backend uses, typed
 * structurally so @lrw/tensor compiles and installs without it.
 */

/** A gpu.js texture (kernel output in pipeline mode): a GL texture plus its layout. */
export interface GpuJsTexture {
  texture: unknown;
  size: ArrayLike<number>;
  dimensions: ArrayLike<number>;
  output: ArrayLike<number>;
  readonly type: string;
}

/** The kernel object behind a kernel function (`fn.kernel`); fields set by gpu.js. */
export interface GpuJsKernelInstance {
  texture: GpuJsTexture | null;
  _textureSwitched: boolean | null;
  context: GlContext | null;
  TextureConstructor?: new (settings: Record<string, unknown>) => GpuJsTexture;
  compiledFragmentShader?: string;
  constructor: { name: string };
}

/** What `gpu.createKernel` returns: call it with the kernel's arguments. */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  readonly kernel: GpuJsKernelInstance;
  destroy(removeCanvasReferences?: boolean): void;
}

export interface GpuJsInstance {
  readonly mode: string;
  context: GlContext | null;
  createKernel(source: string, settings: Record<string, unknown>): GpuJsKernel;
  addNativeFunction(name: string, source: string, settings?: Record<string, unknown>): unknown;
  destroy(): void | Promise<void>;
}

export interface GpuJsModule {
  GPU: {
    new (settings?: Record<string, unknown>): GpuJsInstance;
    readonly isWebGL2Supported: boolean;
    readonly isWebGLSupported: boolean;
    readonly isHeadlessGLSupported: boolean;
  };
}

/** The WebGL calls the backend makes itself (texture storage, uploads, readback). */
export interface GlContext {
  readonly RGBA: number;
  readonly FLOAT: number;
  readonly TEXTURE_2D: number;
  readonly TEXTURE15: number;
  readonly TEXTURE_MIN_FILTER: number;
  readonly TEXTURE_MAG_FILTER: number;
  readonly TEXTURE_WRAP_S: number;
  readonly TEXTURE_WRAP_T: number;
  readonly NEAREST: number;
  readonly CLAMP_TO_EDGE: number;
  readonly FRAMEBUFFER: number;
  readonly COLOR_ATTACHMENT0: number;
  readonly MAX_TEXTURE_SIZE: number;
  readonly RENDERER: number;
  readonly VERSION: number;
  createTexture(): unknown;
  deleteTexture(t: unknown): void;
  bindTexture(target: number, t: unknown): void;
  activeTexture(unit: number): void;
  texParameteri(target: number, p: number, v: number): void;
  texImage2D(
    target: number,
    level: number,
    internal: number,
    w: number,
    h: number,
    border: number,
    format: number,
    type: number,
    data: ArrayBufferView | null,
  ): void;
  texSubImage2D(
    target: number,
    level: number,
    x: number,
    y: number,
    w: number,
    h: number,
    format: number,
    type: number,
    data: ArrayBufferView,
  ): void;
  createFramebuffer(): unknown;
  deleteFramebuffer(f: unknown): void;
  bindFramebuffer(target: number, f: unknown): void;
  framebufferTexture2D(target: number, att: number, tt: number, t: unknown, level: number): void;
  readPixels(
    x: number,
    y: number,
    w: number,
    h: number,
    format: number,
    type: number,
    dst: ArrayBufferView | number,
  ): void;
  getParameter(p: number): unknown;
  getExtension(name: string): unknown;
  getError(): number;
  flush(): void;
  finish(): void;
}

/** WebGL2 additions used for asynchronous readback (pixel-pack buffer + fence). */
export interface Gl2Context extends GlContext {
  readonly RGBA32F: number;
  readonly PIXEL_PACK_BUFFER: number;
  readonly STREAM_READ: number;
  readonly SYNC_GPU_COMMANDS_COMPLETE: number;
  readonly TIMEOUT_EXPIRED: number;
  readonly WAIT_FAILED: number;
  createBuffer(): unknown;
  deleteBuffer(b: unknown): void;
  bindBuffer(target: number, b: unknown): void;
  bufferData(target: number, size: number, usage: number): void;
  getBufferSubData(target: number, offset: number, dst: ArrayBufferView): void;
  fenceSync(cond: number, flags: number): unknown;
  clientWaitSync(sync: unknown, flags: number, timeout: number): number;
  deleteSync(sync: unknown): void;
}

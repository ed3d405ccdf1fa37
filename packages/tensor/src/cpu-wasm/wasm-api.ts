// The slice of the WebAssembly JS API the fast path uses, typed locally: the repository's
// TypeScript lib is ES2023 without DOM, which is where TypeScript declares `WebAssembly`.

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

/** A compiled module; opaque here, and structured-cloneable to worker threads. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  validate(bytes: Uint8Array<ArrayBuffer>): boolean;
  compile(bytes: Uint8Array<ArrayBuffer>): Promise<WasmModule>;
  /** Synchronous compilation (Node allows it for modules of any size; browsers cap it at 4 KB on the main thread). */
  Module: new (
    bytes: Uint8Array<ArrayBuffer>,
  ) => WasmModule;
  Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => WasmInstance;
  instantiate(
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<WasmInstance>;
}

/** `globalThis.WebAssembly`, typed. */
export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
